using RecApp.Engine.Metrics;
using System.Globalization;
using RecApp.Engine.Embeddings;
using RecApp.Engine.Tests;

namespace RecApp.Engine.Tests.Embeddings;

/// <summary>
/// The evaluation protocol of the shared datasets' README (<see cref="SharedDatasets"/>) for a model that scores item indices: per user a
/// seeded, stratified 75/25 split of the user's rows; candidates are items seen in train minus the user's train items
/// (Last.fm: only artists with ≥ 5 train listeners, for candidates and test items); binary relevance; nDCG@10 with
/// the ideal over min(10, |test|), averaged over users with test items.
/// </summary>
internal sealed class RealDatasetProtocol
{
    private RealDatasetProtocol(string name, int userCount, int itemCount, (int User, int Item, float Value)[] rows, int minTrainUsers)
    {
        Name = name;
        UserCount = userCount;
        ItemCount = itemCount;
        Rows = rows;
        MinTrainUsers = minTrainUsers;
    }

    public string Name { get; }
    public int UserCount { get; }
    public int ItemCount { get; }
    public (int User, int Item, float Value)[] Rows { get; }
    public int MinTrainUsers { get; }

    public static readonly int[] Seeds = [42, 1, 2];

    /// <summary>
    /// MovieLens latest-small: every rating is a positive, value 1, or with <paramref name="engineWeights"/> the engine's
    /// cell weight for a rating without decay, log(1 + stars).
    /// </summary>
    public static RealDatasetProtocol MovieLensSmall(bool engineWeights = false) =>
        Load(SharedDatasets.MovieLensSmall.Folder, Path.Combine(SharedDatasets.Require(SharedDatasets.MovieLensSmall), "ratings.csv"), ',',
            stars => engineWeights ? MathF.Log(1 + stars) : 1f, minTrainUsers: 1);

    /// <summary>Last.fm 2K: every (user, artist) pair is a positive; value log(1 + plays) when <paramref name="playCounts"/>.</summary>
    public static RealDatasetProtocol LastFm(bool playCounts = false) =>
        Load(SharedDatasets.LastFm.Folder, Path.Combine(SharedDatasets.Require(SharedDatasets.LastFm), "user_artists.dat"), '\t',
            plays => playCounts ? MathF.Log(1 + plays) : 1f, minTrainUsers: 5);

    private static RealDatasetProtocol Load(string name, string path, char separator, Func<float, float> value, int minTrainUsers)
    {
        var users = new Dictionary<long, int>();
        var items = new Dictionary<long, int>();
        var rows = new List<(int, int, float)>();
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            if (line.Length == 0)
            {
                continue;
            }
            // Only the first three fields are read (user, item, rating or plays): none of them is quoted.
            var fields = line.Split(separator);
            var user = long.Parse(fields[0], CultureInfo.InvariantCulture);
            var item = long.Parse(fields[1], CultureInfo.InvariantCulture);
            var raw = float.Parse(fields[2], CultureInfo.InvariantCulture);
            if (!users.TryGetValue(user, out var u))
            {
                users[user] = u = users.Count;
            }
            if (!items.TryGetValue(item, out var i))
            {
                items[item] = i = items.Count;
            }
            rows.Add((u, i, value(raw)));
        }
        return new RealDatasetProtocol(name, users.Count, items.Count, [.. rows], minTrainUsers);
    }

    public sealed record Split(ImplicitFeedbackMatrix Train, HashSet<int>[] Test, int[][] TrainItems);

    /// <summary>Per user: shuffle the user's rows with the seed, keep round(75%) in train.</summary>
    public Split MakeSplit(int seed)
    {
        var random = new Random(seed);
        var byUser = new List<(int Item, float Value)>[UserCount];
        foreach (var (u, i, v) in Rows)
        {
            (byUser[u] ??= []).Add((i, v));
        }
        var train = new List<(int, int, float)>();
        var test = new HashSet<int>[UserCount];
        for (var u = 0; u < UserCount; u++)
        {
            var rows = byUser[u]?.ToArray() ?? [];
            random.Shuffle(rows);
            var trainCount = (int)Math.Round(rows.Length * 0.75, MidpointRounding.AwayFromZero);
            test[u] = [];
            for (var r = 0; r < rows.Length; r++)
            {
                if (r < trainCount)
                {
                    train.Add((u, rows[r].Item, rows[r].Value));
                }
                else
                {
                    test[u].Add(rows[r].Item);
                }
            }
        }
        var sparse = ImplicitFeedbackMatrix.FromTriples(UserCount, ItemCount, train);
        var trainUsers = new int[ItemCount];
        foreach (var item in sparse.CellItem)
        {
            trainUsers[item]++;
        }
        var candidate = trainUsers.Select(c => c >= MinTrainUsers).ToArray();
        foreach (var t in test)
        {
            t.RemoveWhere(i => !candidate[i]);
        }
        var trainItems = new int[UserCount][];
        for (var u = 0; u < UserCount; u++)
        {
            trainItems[u] = sparse.CellItem[sparse.UserStart[u]..sparse.UserStart[u + 1]];
        }
        var matrix = new ImplicitFeedbackMatrix(ItemCount, sparse.UserStart, sparse.CellItem, sparse.CellValue, candidate);
        return new Split(matrix, test, trainItems);
    }

    /// <summary>Mean nDCG@<paramref name="k"/> of <paramref name="recommend"/>(user, k, train items) over users with test items.</summary>
    public static double Ndcg(Split split, Func<int, int, int[], int[]> recommend, int k = 10)
    {
        var sum = 0.0;
        var users = 0;
        for (var u = 0; u < split.Test.Length; u++)
        {
            var truth = split.Test[u];
            if (truth.Count == 0)
            {
                continue;
            }
            var top = recommend(u, k, split.TrainItems[u]);
            sum += RankingMetrics.Ndcg(top, truth, k);
            users++;
        }
        return users == 0 ? 0 : sum / users;
    }

    /// <summary>iALS alone on one seed's split.</summary>
    public double AlsNdcg(ImplicitAlsSettings settings, int seed)
    {
        var split = MakeSplit(seed);
        var model = ImplicitAlsBuilder.Build(split.Train, settings);
        return Ndcg(split, (u, k, exclude) => model.Recommend(u, k, exclude).Indices);
    }
}
