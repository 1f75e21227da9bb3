using System.Text;
using RecApp.Engine.Domain;
using RecApp.Data.Migrations;
using RecApp.Data.Source;
using RecApp.Engine.Datasets;

namespace RecApp.Tests.Ingest;

public sealed class ImporterTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("recapp-import-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private void Write(string name, string text, Encoding? encoding = null) =>
        File.WriteAllText(Path.Combine(_directory, name), text, encoding ?? new UTF8Encoding(false));

    private static string Flags(params int[] on) =>
        string.Join('|', Enumerable.Range(0, 19).Select(g => on.Contains(g) ? "1" : "0"));

    [Fact]
    public void MovieLens100K_maps_genres_demographics_and_ratings()
    {
        Write("u.item", $"""
            1|Toy Story (1995)|01-Jan-1995||http://example|{Flags(3, 4, 5)}
            2|Café Society (1995)|01-Jan-1995||http://example|{Flags(8)}

            """, Encoding.Latin1);
        Write("u.user", """
            1|24|M|technician|85711
            2|53|F|other|T8H1N

            """);
        Write("u.data", "1\t1\t5\t874965758\n2\t2\t3\t876893171\n");

        var (dataset, report) = MovieLens100KImporter.Import(_directory);

        Assert.False(report.HasProblems);
        var toyStory = dataset.Items.Single(i => i.Id == 1);
        Assert.Equal(["animation", "children's", "comedy"], toyStory.Tags);
        Assert.Equal("animation", toyStory.Category);
        Assert.Equal(new DateTime(1995, 1, 1, 0, 0, 0, DateTimeKind.Utc), toyStory.CreatedAt);
        Assert.Equal("Café Society (1995)", dataset.Items.Single(i => i.Id == 2).Title); // Latin-1 read as Latin-1
        Assert.Equal(new UserDemographics(1, "m", "18-24", 9), dataset.Users[0]); // zip 8xxxx: postal region 8 -> geo 9
        Assert.Equal(new UserDemographics(2, "f", "45-54", null), dataset.Users[1]);
        Assert.Equal(new Interaction(1, 1, InteractionType.Rating, 5f, DateTimeOffset.FromUnixTimeSeconds(874965758).UtcDateTime),
            dataset.Interactions[0]);
    }

    [Fact]
    public void MovieLens100K_bad_rows_are_reported_with_file_and_line()
    {
        Write("u.item", $"1|Toy Story (1995)|01-Jan-1995||x|{Flags(3)}\nx|Broken|01-Jan-1995||x|{Flags(3)}\n3|Short|01-Jan-1995\n");
        Write("u.user", "1|24|M|technician|85711\n1|30|F|writer|10001\n2|24|X|artist|10001\n");
        Write("u.data", "1\t1\t5\t874965758\n1\t1\t9\t874965758\n1\t99\t4\t874965758\n1 1 4 874965758\n3\t1\t4\t874965758\n");

        var (dataset, report) = MovieLens100KImporter.Import(_directory);

        Assert.Equal(
        [
            "u.item:2: movie id 'x' is not a positive integer",
            "u.item:3: expected 24 fields, found 3",
            "u.user:2: duplicate user id 1",
            "u.user:3: gender 'X' is not M or F",
            "u.data:2: rating '9' is not between 0.5 and 5",
            "u.data:3: unknown item id 99",
            "u.data:4: expected 4 tab-separated fields, found 1",
        ], report.Problems.Select(p => p.ToString()));
        Assert.Equal([("u.item", 3L, 1L), ("u.user", 3L, 1L), ("u.data", 5L, 2L)],
            report.Files.Select(f => (f.File, f.RowsRead, f.RowsAccepted)));
        Assert.Equal(2, dataset.Interactions.Length);
        Assert.Equal(1, report.ImplicitUsers); // user 3 rated but is not in u.user
        Assert.Equal([1L, 3L], dataset.Users.Select(u => u.Id));
    }

    [Fact]
    public void MovieLens_latest_reads_quoted_titles_and_piped_genres()
    {
        Write("movies.csv", """
            movieId,title,genres
            1,"Heat, The (1995)",Action|Crime|Thriller
            2,"Say ""Hi"" (2001)",(no genres listed)
            3,"Unterminated (2000),Drama
            4,Plain Title,Comedy

            """);
        Write("ratings.csv", """
            userId,movieId,rating,timestamp
            1,1,4.5,964982703
            1,2,0.5,964982224
            2,4,3.0,964983815
            2,3,4.0,964983815
            2,1,five,964983815

            """);

        var (dataset, report) = MovieLensLatestImporter.Import(_directory);

        Assert.Equal(["Heat, The (1995)", "Say \"Hi\" (2001)", "Plain Title"], dataset.Items.Select(i => i.Title));
        Assert.Equal(["action", "crime", "thriller"], dataset.Items[0].Tags);
        Assert.Equal("unknown", dataset.Items[1].Category);
        Assert.Empty(dataset.Items[1].Tags);
        Assert.Equal(new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc), dataset.Items[1].CreatedAt);
        Assert.Equal(
        [
            "movies.csv:4: unterminated quoted field",
            "ratings.csv:5: unknown item id 3",
            "ratings.csv:6: rating 'five' is not between 0.5 and 5",
        ], report.Problems.Select(p => p.ToString()));
        Assert.Equal([4.5f, 0.5f, 3.0f], dataset.Interactions.Select(i => i.Value!.Value));
        Assert.Equal(2, report.ImplicitUsers);
        Assert.All(dataset.Users, u => Assert.Null(u.Gender));
    }

    [Fact]
    public void MovieLens_latest_refuses_an_unexpected_header()
    {
        Write("movies.csv", "id,name,genres\n1,A,Drama\n");
        Write("ratings.csv", "userId,movieId,rating,timestamp\n");

        var error = Assert.Throws<DatasetImportException>(() => MovieLensLatestImporter.Import(_directory));
        Assert.Contains("movies.csv", error.Message);
    }

    [Fact]
    public void Generic_csv_reads_every_field_and_reports_bad_rows()
    {
        Write("items.csv", """
            id,title,category,tags,price,geo_id,active,created_at
            10,"Red kettle, 1.7 l",kitchen,steel|electric,39.90,3,true,2025-01-02T03:04:05Z
            11,Blue mug,kitchen,,4.5,,false,
            12,No category,,a,1,,,
            13,Bad price,kitchen,,-3,,,

            """);
        Write("users.csv", """
            id,gender,age_group,geo_id
            1,F,25-34,3
            2,,,
            3,x,25-34,

            """);
        Write("interactions.csv", """
            user_id,item_id,type,value,occurred_at
            1,10,purchase,,2025-02-01T10:00:00Z
            1,11,rating,4.5,1738404000
            2,10,teleport,,2025-02-01T10:00:00Z
            2,10,rating,,2025-02-01T10:00:00Z
            2,10,view,,yesterday
            5,10,like,,2025-02-01T10:00:00+02:00

            """);

        var (dataset, report) = GenericDatasetImporter.Import(_directory);

        var kettle = dataset.Items.Single(i => i.Id == 10);
        Assert.Equal(("Red kettle, 1.7 l", "kitchen", 39.90m, (int?)3, true), (kettle.Title, kettle.Category, kettle.Price, kettle.GeoId, kettle.Active));
        Assert.Equal(["steel", "electric"], kettle.Tags);
        Assert.Equal(new DateTime(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc), kettle.CreatedAt);
        Assert.False(dataset.Items.Single(i => i.Id == 11).Active);
        Assert.Equal(
        [
            "items.csv:4: 'category' is required",
            "items.csv:5: price '-3' is not a non-negative number",
            "users.csv:4: gender 'x' is not f or m",
            "interactions.csv:4: type 'teleport' is not one of view, click, like, wishlist_add, add_to_cart, purchase, rating",
            "interactions.csv:5: a rating needs a value",
            "interactions.csv:6: occurred_at 'yesterday' is not an ISO 8601 time or unix seconds",
        ], report.Problems.Select(p => p.ToString()));
        Assert.Equal(new UserDemographics(1, "f", "25-34", 3), dataset.Users.Single(u => u.Id == 1));
        Assert.Equal(
        [
            new Interaction(1, 10, InteractionType.Purchase, null, new DateTime(2025, 2, 1, 10, 0, 0, DateTimeKind.Utc)),
            new Interaction(1, 11, InteractionType.Rating, 4.5f, DateTimeOffset.FromUnixTimeSeconds(1738404000).UtcDateTime),
            new Interaction(5, 10, InteractionType.Like, null, new DateTime(2025, 2, 1, 8, 0, 0, DateTimeKind.Utc)),
        ], dataset.Interactions);
        Assert.Equal(1, report.ImplicitUsers); // user 5
    }

    [Fact]
    public void Generic_json_lines_read_like_csv_and_report_bad_lines()
    {
        Write("items.jsonl", """
            {"id": 1, "title": "Tent", "category": "outdoors", "tags": ["camping", "4-person"], "price": 129.5, "geo_id": 7}
            {"id": 2, "title": "Stove", "category": "outdoors", "tags": "camping"}
            {"id": 1, "title": "Duplicate", "category": "outdoors"}
            not json

            """);
        Write("interactions.jsonl", """
            {"user_id": 4, "item_id": 1, "type": "add_to_cart", "occurred_at": "2025-05-05T12:00:00Z"}
            {"user_id": 4, "item_id": 1, "type": "rating", "value": 4, "occurred_at": 1746446400}
            [1, 2]

            """);

        var (dataset, report) = GenericDatasetImporter.Import(_directory);

        var tent = Assert.Single(dataset.Items);
        Assert.Equal(["camping", "4-person"], tent.Tags);
        Assert.Equal((129.5m, (int?)7), (tent.Price, tent.GeoId));
        Assert.Equal(2, dataset.Interactions.Length);
        Assert.Equal(4f, dataset.Interactions[1].Value);
        Assert.Equal(["items.jsonl:2", "items.jsonl:3", "items.jsonl:4", "interactions.jsonl:3"],
            report.Problems.Select(p => $"{p.File}:{p.Line}"));
        Assert.Contains("array of strings", report.Problems[0].Reason);
        Assert.Contains("duplicate item id 1", report.Problems[1].Reason);
    }

    [Fact]
    public void Generic_files_without_required_columns_are_refused_as_a_whole()
    {
        Write("items.csv", "id,title\n1,A\n");
        Write("interactions.csv", "user_id,item_id,type,occurred_at\n");

        var error = Assert.Throws<DatasetImportException>(() => DatasetImportFormat.Import(DatasetImportFormat.Generic, _directory));
        Assert.Equal("items.csv: required column(s) category missing from the header.", error.Message);
    }

    [Fact]
    public void LastFm_maps_play_counts_to_implicit_weights_and_tags_to_categories()
    {
        Write("artists.dat", "id\tname\turl\tpictureURL\n1\tMALICE MIZER\thttp://a\thttp://b\n2\tDiary of Dreams\thttp://c\thttp://d\n");
        Write("user_artists.dat", "userID\tartistID\tweight\r\n2\t1\t13883\r\n2\t2\t9\r\n3\t2\t0\r\n3\t7\t5\r\n");
        Write("tags.dat", "tagID\ttagValue\r\n1\tJ-Rock\r\n2\tgothic\r\n3\tm\u00e1s\r\n", Encoding.Latin1);
        Write("user_taggedartists.dat", "userID\tartistID\ttagID\tday\tmonth\tyear\r\n2\t1\t1\t1\t4\t2009\r\n3\t1\t1\t1\t4\t2009\r\n3\t1\t2\t1\t4\t2009\r\n2\t2\t3\t1\t4\t2009\r\n");

        var (dataset, report) = LastFmImporter.Import(_directory);

        var malice = dataset.Items.Single(i => i.Id == 1);
        Assert.Equal(["j-rock", "gothic"], malice.Tags); // most assigned first
        Assert.Equal("j-rock", malice.Category);
        Assert.Equal("más", dataset.Items.Single(i => i.Id == 2).Category); // tags.dat is Latin-1
        Assert.Equal(2, dataset.Interactions.Length);
        var first = dataset.Interactions[0];
        Assert.Equal((2L, 1L, InteractionType.Rating, LastFmImporter.EventTime), (first.UserId, first.ItemId, first.Type, first.OccurredAt));
        Assert.Equal((float)Math.Log10(13884), first.Value!.Value, 4);
        Assert.Equal(1f, dataset.Interactions[1].Value!.Value, 4); // log10(1 + 9)
        Assert.Equal(0.5f, LastFmImporter.Weight(1));
        Assert.Equal(5f, LastFmImporter.Weight(10_000_000));
        Assert.Equal(2, report.RejectedRows); // a zero play count and an unknown artist, each with file and line
        Assert.Contains("user_artists.dat", report.Format());
    }

    [Fact]
    public void LastFm_without_the_header_is_a_layout_error()
    {
        Write("artists.dat", "1\tMALICE MIZER\thttp://a\thttp://b\n");
        Write("user_artists.dat", "userID\tartistID\tweight\n");
        Assert.Throws<DatasetImportException>(() => LastFmImporter.Import(_directory));
    }
}
