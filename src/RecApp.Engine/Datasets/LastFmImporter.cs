using System.Globalization;
using System.Text;
using RecApp.Engine.Domain;

namespace RecApp.Engine.Datasets;

/// <summary>
/// The HetRec 2011 Last.fm layout (<c>hetrec2011-lastfm-2k</c>), tab-separated with a header line: <c>artists.dat</c>
/// (id, name, url, pictureURL) is the catalog; <c>user_artists.dat</c> (userID, artistID, weight = play count) the
/// feedback; <c>user_taggedartists.dat</c> with <c>tags.dat</c> (Latin-1), when present, give each artist its
/// <see cref="MaxTags"/> most assigned tags, the first one as its category. Play counts are implicit feedback: each
/// pair becomes one <see cref="InteractionType.Rating"/> whose value is <c>log10(1 + plays)</c> clamped to 0.5–5 (the
/// counts run from 1 to 350,000). The files have no listening times: every event is stamped <see cref="EventTime"/>
/// (so no decay applies between them). <c>user_friends.dat</c> is not read.
/// </summary>
public static class LastFmImporter
{
    public const int MaxTags = 5;

    /// <summary>When the data set was published (HetRec 2011); the stamp of every listening event.</summary>
    public static readonly DateTime EventTime = new(2011, 5, 1, 0, 0, 0, DateTimeKind.Utc);

    public static ImportResult Import(string directory)
    {
        var builder = new ImportedDatasetBuilder();
        var tags = ReadArtistTags(directory);
        ReadArtists(ImportedDatasetBuilder.RequireFile(directory, "artists.dat"), tags, builder);
        ReadPlays(ImportedDatasetBuilder.RequireFile(directory, "user_artists.dat"), builder);
        return builder.Build();
    }

    /// <summary>Play count → rating value: log10(1 + plays), within the rating scale 0.5–5.</summary>
    public static float Weight(long plays) => Math.Clamp((float)Math.Log10(1 + plays), 0.5f, 5f);

    private static void ReadArtists(string path, Dictionary<long, string[]> tags, ImportedDatasetBuilder builder)
    {
        const string file = "artists.dat";
        long read = 0, accepted = 0;
        foreach (var (line, text) in ImportedDatasetBuilder.ReadLines(path, Encoding.UTF8))
        {
            if (line == 1)
            {
                RequireHeader(file, text, "id", "name");
                continue;
            }
            read++;
            var fields = text.Split('\t');
            if (fields.Length < 2)
            {
                builder.Reject(file, line, $"expected at least 2 tab-separated fields, found {fields.Length}");
                continue;
            }
            if (!long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id <= 0)
            {
                builder.Reject(file, line, $"artist id '{fields[0]}' is not a positive integer");
                continue;
            }
            var name = fields[1].Trim();
            if (name.Length == 0)
            {
                builder.Reject(file, line, "empty name");
                continue;
            }
            var artistTags = tags.GetValueOrDefault(id) ?? [];
            var category = artistTags.Length > 0 ? artistTags[0] : "unknown";
            if (builder.AddItem(file, line, new CatalogItem(id, name, category, artistTags, 0m, null, true, EventTime)))
            {
                accepted++;
            }
        }
        builder.Summarize(file, read, accepted);
    }

    private static void ReadPlays(string path, ImportedDatasetBuilder builder)
    {
        const string file = "user_artists.dat";
        long read = 0, accepted = 0;
        foreach (var (line, text) in ImportedDatasetBuilder.ReadLines(path, Encoding.UTF8))
        {
            if (line == 1)
            {
                RequireHeader(file, text, "userID", "artistID", "weight");
                continue;
            }
            read++;
            var fields = text.Split('\t');
            if (fields.Length != 3)
            {
                builder.Reject(file, line, $"expected 3 tab-separated fields, found {fields.Length}");
                continue;
            }
            if (!long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var user) || user <= 0)
            {
                builder.Reject(file, line, $"user id '{fields[0]}' is not a positive integer");
                continue;
            }
            if (!long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var artist) || artist <= 0)
            {
                builder.Reject(file, line, $"artist id '{fields[1]}' is not a positive integer");
                continue;
            }
            if (!long.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var plays) || plays <= 0)
            {
                builder.Reject(file, line, $"play count '{fields[2]}' is not a positive integer");
                continue;
            }
            if (builder.AddInteraction(file, line, new Interaction(user, artist, InteractionType.Rating, Weight(plays), EventTime)))
            {
                accepted++;
            }
        }
        builder.Summarize(file, read, accepted);
    }

    /// <summary>Per artist, its most assigned tags (lower case, ties by name); empty when the tag files are absent.</summary>
    private static Dictionary<long, string[]> ReadArtistTags(string directory)
    {
        var tagsPath = Path.Combine(directory, "tags.dat");
        var assignmentsPath = Path.Combine(directory, "user_taggedartists.dat");
        if (!File.Exists(tagsPath) || !File.Exists(assignmentsPath))
        {
            return [];
        }
        var names = new Dictionary<long, string>();
        foreach (var (line, text) in ImportedDatasetBuilder.ReadLines(tagsPath, Encoding.Latin1))
        {
            var fields = text.Split('\t');
            if (line > 1 && fields.Length == 2 && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id)
                && fields[1].Trim() is { Length: > 0 } name)
            {
                names[id] = name.ToLowerInvariant();
            }
        }
        var counts = new Dictionary<long, Dictionary<string, int>>();
        foreach (var (line, text) in ImportedDatasetBuilder.ReadLines(assignmentsPath, Encoding.UTF8))
        {
            var fields = text.Split('\t');
            if (line > 1 && fields.Length >= 3
                && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var artist)
                && long.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var tag)
                && names.TryGetValue(tag, out var name))
            {
                if (!counts.TryGetValue(artist, out var byTag))
                {
                    counts[artist] = byTag = new Dictionary<string, int>(StringComparer.Ordinal);
                }
                byTag[name] = byTag.GetValueOrDefault(name) + 1;
            }
        }
        return counts.ToDictionary(c => c.Key, c => c.Value
            .OrderByDescending(t => t.Value).ThenBy(t => t.Key, StringComparer.Ordinal).Take(MaxTags).Select(t => t.Key).ToArray());
    }

    private static void RequireHeader(string file, string text, params string[] leading)
    {
        var fields = text.TrimStart('\uFEFF').Split('\t');
        if (fields.Length < leading.Length || !leading.Select((name, i) => fields[i].Trim() == name).All(ok => ok))
        {
            throw new DatasetImportException($"{file}: expected a header starting '{string.Join("\\t", leading)}', found '{text}'.");
        }
    }
}
