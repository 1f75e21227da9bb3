using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using RecApp.Engine.Domain;

namespace RecApp.Engine.Datasets;

/// <summary>
/// The MovieLens 100K layout (GroupLens <c>ml-100k</c>): <c>u.item</c> (pipe-separated, Latin-1, genre flags),
/// <c>u.user</c> (age, gender, occupation, zip), <c>u.data</c> (tab-separated user, item, rating, timestamp).
/// Genres become tags and the first genre the category; age becomes an age group; the first digit of a US zip
/// code (a national postal region) becomes geo id 1-10, other zips no geo. Items have no price (0).
/// </summary>
public static class MovieLens100KImporter
{
    private static readonly string[] s_defaultGenres =
    [
        "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
        "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
    ];

    private static readonly MovieLensRatingsFile s_ratings = new("u.data", '\t', "tab", Header: null);

    public static ImportResult Import(string directory)
    {
        var latin1 = Encoding.Latin1;
        var builder = new ImportedDatasetBuilder();
        var genres = ReadGenres(directory, latin1);
        ReadItems(ImportedDatasetBuilder.RequireFile(directory, "u.item"), genres, latin1, builder);
        var usersPath = Path.Combine(directory, "u.user");
        if (File.Exists(usersPath))
        {
            ReadUsers(usersPath, latin1, builder);
        }
        MovieLensFields.ReadRatings(ImportedDatasetBuilder.RequireFile(directory, s_ratings.File), latin1, s_ratings, builder);
        return builder.Build();
    }

    private static string[] ReadGenres(string directory, Encoding encoding)
    {
        var path = Path.Combine(directory, "u.genre");
        if (!File.Exists(path))
        {
            return s_defaultGenres;
        }
        var genres = new SortedDictionary<int, string>();
        foreach (var (_, text) in ImportedDatasetBuilder.ReadLines(path, encoding))
        {
            var parts = text.Split('|');
            if (parts.Length == 2 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                genres[index] = parts[0];
            }
        }
        return genres.Count > 0 && genres.Keys.SequenceEqual(Enumerable.Range(0, genres.Count))
            ? [.. genres.Values]
            : throw new DatasetImportException("u.genre does not list genres 0..N-1.");
    }

    private static void ReadItems(string path, string[] genres, Encoding encoding, ImportedDatasetBuilder builder)
    {
        const string file = "u.item";
        long read = 0, accepted = 0;
        foreach (var (line, text) in ImportedDatasetBuilder.ReadLines(path, encoding))
        {
            read++;
            var fields = text.Split('|');
            if (fields.Length != 5 + genres.Length)
            {
                builder.Reject(file, line, $"expected {5 + genres.Length} fields, found {fields.Length}");
                continue;
            }
            if (!long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id <= 0)
            {
                builder.Reject(file, line, $"movie id '{fields[0]}' is not a positive integer");
                continue;
            }
            var tags = new List<string>();
            string? badFlag = null;
            for (var g = 0; g < genres.Length; g++)
            {
                switch (fields[5 + g])
                {
                    case "1": tags.Add(genres[g].ToLowerInvariant()); break;
                    case "0": break;
                    default: badFlag = fields[5 + g]; break;
                }
            }
            if (badFlag is not null)
            {
                builder.Reject(file, line, $"genre flag '{badFlag}' is not 0 or 1");
                continue;
            }
            var title = fields[1].Trim();
            if (title.Length == 0)
            {
                builder.Reject(file, line, "empty title");
                continue;
            }
            var created = DateTime.TryParseExact(fields[2], "dd-MMM-yyyy", CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var release)
                ? release
                : DateTime.UnixEpoch;
            var category = tags.Count > 0 ? tags[0] : "unknown";
            if (builder.AddItem(file, line, new CatalogItem(id, title, category, [.. tags], 0m, null, true, created)))
            {
                accepted++;
            }
        }
        builder.Summarize(file, read, accepted);
    }

    private static void ReadUsers(string path, Encoding encoding, ImportedDatasetBuilder builder)
    {
        const string file = "u.user";
        long read = 0, accepted = 0;
        foreach (var (line, text) in ImportedDatasetBuilder.ReadLines(path, encoding))
        {
            read++;
            var fields = text.Split('|');
            if (fields.Length != 5)
            {
                builder.Reject(file, line, $"expected 5 fields, found {fields.Length}");
                continue;
            }
            if (!long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id <= 0)
            {
                builder.Reject(file, line, $"user id '{fields[0]}' is not a positive integer");
                continue;
            }
            if (!int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var age) || age > 130)
            {
                builder.Reject(file, line, $"age '{fields[1]}' is not a plausible age");
                continue;
            }
            string? gender = fields[2] switch { "M" or "m" => "m", "F" or "f" => "f", _ => null };
            if (gender is null)
            {
                builder.Reject(file, line, $"gender '{fields[2]}' is not M or F");
                continue;
            }
            var zip = fields[4].Trim();
            int? geo = zip.Length == 5 && zip.All(char.IsAsciiDigit) ? 1 + (zip[0] - '0') : null;
            if (builder.AddUser(file, line, new UserDemographics(id, gender, AgeGroups.FromAge(age), geo)))
            {
                accepted++;
            }
        }
        builder.Summarize(file, read, accepted);
    }
}

/// <summary>
/// The MovieLens "latest" layout (<c>ml-latest</c>, <c>ml-latest-small</c>, also ml-20m/25m/32m): <c>movies.csv</c>
/// (movieId, title, genres with <c>|</c>) and <c>ratings.csv</c> (userId, movieId, rating, timestamp), both with a
/// header. There is no user file: users get unknown demographics. The year in a title such as "Heat (1995)"
/// becomes the item's creation date; <c>tags.csv</c> and <c>links.csv</c> are not read.
/// </summary>
public static partial class MovieLensLatestImporter
{
    private static readonly MovieLensRatingsFile s_ratings = new("ratings.csv", ',', "comma", "userId,movieId,rating,timestamp");

    public static ImportResult Import(string directory)
    {
        var builder = new ImportedDatasetBuilder();
        ReadMovies(ImportedDatasetBuilder.RequireFile(directory, "movies.csv"), builder);
        MovieLensFields.ReadRatings(ImportedDatasetBuilder.RequireFile(directory, s_ratings.File), Encoding.UTF8, s_ratings, builder);
        return builder.Build();
    }

    [GeneratedRegex(@"\((\d{4})\)\s*$")]
    private static partial Regex TitleYear();

    private static void ReadMovies(string path, ImportedDatasetBuilder builder)
    {
        const string file = "movies.csv";
        long read = 0, accepted = 0;
        var fields = new List<string>();
        foreach (var (line, text) in ImportedDatasetBuilder.ReadLines(path, Encoding.UTF8))
        {
            if (line == 1)
            {
                MovieLensFields.RequireHeader(file, text, "movieId,title,genres");
                continue;
            }
            read++;
            if (!CsvRecord.TrySplit(text, ',', fields, out var error) || fields.Count != 3)
            {
                builder.Reject(file, line, error ?? $"expected 3 fields, found {fields.Count}");
                continue;
            }
            if (!long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id <= 0)
            {
                builder.Reject(file, line, $"movieId '{fields[0]}' is not a positive integer");
                continue;
            }
            var title = fields[1].Trim();
            if (title.Length == 0)
            {
                builder.Reject(file, line, "empty title");
                continue;
            }
            var tags = fields[2] == "(no genres listed)"
                ? []
                : fields[2].Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(g => g.ToLowerInvariant()).Distinct().ToArray();
            var year = TitleYear().Match(title);
            var created = year.Success && int.Parse(year.Groups[1].Value, CultureInfo.InvariantCulture) is >= 1800 and <= 9999
                ? new DateTime(int.Parse(year.Groups[1].Value, CultureInfo.InvariantCulture), 1, 1, 0, 0, 0, DateTimeKind.Utc)
                : DateTime.UnixEpoch;
            var category = tags.Length > 0 ? tags[0] : "unknown";
            if (builder.AddItem(file, line, new CatalogItem(id, title, category, tags, 0m, null, true, created)))
            {
                accepted++;
            }
        }
        builder.Summarize(file, read, accepted);
    }
}

/// <summary>Where the ratings of a MovieLens layout are: the file, its field separator (named for errors) and its header line, if any.</summary>
internal sealed record MovieLensRatingsFile(string File, char Separator, string SeparatorName, string? Header);

internal static class MovieLensFields
{
    /// <summary>Reads a ratings file of either layout; bad rows are rejected with file and line, never dropped silently.</summary>
    public static void ReadRatings(string path, Encoding encoding, MovieLensRatingsFile layout, ImportedDatasetBuilder builder)
    {
        long read = 0, accepted = 0;
        foreach (var (line, text) in ImportedDatasetBuilder.ReadLines(path, encoding))
        {
            if (line == 1 && layout.Header is { } header)
            {
                RequireHeader(layout.File, text, header);
                continue;
            }
            read++;
            var fields = text.Split(layout.Separator);
            if (fields.Length != 4)
            {
                builder.Reject(layout.File, line, $"expected 4 {layout.SeparatorName}-separated fields, found {fields.Length}");
                continue;
            }
            if (TryParseRating(fields, out var interaction, out var error))
            {
                if (builder.AddInteraction(layout.File, line, interaction))
                {
                    accepted++;
                }
            }
            else
            {
                builder.Reject(layout.File, line, error!);
            }
        }
        builder.Summarize(layout.File, read, accepted);
    }

    public static void RequireHeader(string file, string text, string expected)
    {
        if (!string.Equals(text.Trim().TrimStart('\uFEFF'), expected, StringComparison.Ordinal))
        {
            throw new DatasetImportException($"{file}: expected the header '{expected}', found '{text}'.");
        }
    }

    /// <summary>user, item, rating (0.5-5), unix seconds: the four fields both MovieLens layouts share.</summary>
    public static bool TryParseRating(string[] fields, out Interaction interaction, out string? error)
    {
        interaction = default;
        if (!long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var user) || user <= 0)
        {
            error = $"user id '{fields[0]}' is not a positive integer";
            return false;
        }
        if (!long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var item) || item <= 0)
        {
            error = $"item id '{fields[1]}' is not a positive integer";
            return false;
        }
        if (!float.TryParse(fields[2], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var rating)
            || rating is < 0.5f or > 5f)
        {
            error = $"rating '{fields[2]}' is not between 0.5 and 5";
            return false;
        }
        if (!long.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds > 253402300799)
        {
            error = $"timestamp '{fields[3]}' is not unix seconds";
            return false;
        }
        interaction = new Interaction(user, item, InteractionType.Rating, rating, ImportedDatasetBuilder.FromUnixSeconds(seconds));
        error = null;
        return true;
    }
}
