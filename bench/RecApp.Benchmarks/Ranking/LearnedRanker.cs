using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;

namespace RecApp.Benchmarks.Ranking;

/// <summary>Which gradient-boosted LambdaRank implementation trains the ranker.</summary>
internal enum RankerTrainer
{
    LightGbm,
    FastTree,
}

/// <summary>Settings of the learned ranker (LambdaRank with gradient-boosted trees).</summary>
internal sealed record LearnedRankerOptions
{
    public RankerTrainer Trainer { get; init; } = RankerTrainer.LightGbm;

    /// <summary>
    /// Boosting rounds. (No early stopping: ML.NET 5.0.1 hands LightGBM a validation set without its query boundaries,
    /// "Number of rows … exceeds upper limit of 10000 for a query".)
    /// </summary>
    public int Trees { get; init; } = 100;
    public int Leaves { get; init; } = 7;
    public double LearningRate { get; init; } = 0.05;

    /// <summary>Large leaves: a leaf must speak for many users' candidates, or the trees memorise (user, item) pairs.</summary>
    public int MinimumExamplesPerLeaf { get; init; } = 1000;

    /// <summary>Threads LightGBM/FastTree may use (the build machine has two cores).</summary>
    public int Threads { get; init; } = 2;
    public int Seed { get; init; } = 7;
}

/// <summary>One user's labelled candidates: the rows of <see cref="CandidateFeatures"/> and which items were held out.</summary>
internal sealed record RankingGroup(float[][] Rows, bool[] Relevant);

/// <summary>
/// A learning-to-rank model over <see cref="CandidateFeatures"/> rows: ML.NET's LightGBM (or FastTree) LambdaRank,
/// trained on validation users (one query group each, binary labels: held-out items), scoring a user's candidates.
/// Saved to and loaded from a stream (ML.NET's zip format), so a build could store it as a model part.
/// </summary>
internal sealed class LearnedRanker
{
    private const string FeaturesColumn = "Features";
    private const string LabelColumn = "Label";
    private const string GroupColumn = "GroupId";

    private readonly MLContext _ml;
    private readonly ITransformer _model;
    private readonly int _width;

    private LearnedRanker(MLContext ml, ITransformer model, int width) => (_ml, _model, _width) = (ml, model, width);

    /// <summary>Feature-vector width the model was trained on.</summary>
    public int Width => _width;

    /// <summary>
    /// Trains on <paramref name="groups"/>; groups without a relevant item (nothing for LambdaRank to order) are skipped.
    /// Null when no group has one.
    /// </summary>
    public static LearnedRanker? Train(IReadOnlyList<RankingGroup> groups, LearnedRankerOptions options)
    {
        var useful = groups.Where(g => g.Rows.Length > 0 && g.Relevant.Contains(true)).ToArray();
        if (useful.Length == 0)
        {
            return null;
        }
        var width = useful[0].Rows[0].Length;
        var ml = new MLContext(options.Seed);
        var data = Load(ml, useful, width);

        IEstimator<ITransformer> trainer;
        if (options.Trainer == RankerTrainer.FastTree)
        {
            trainer = ml.Ranking.Trainers.FastTree(new FastTreeRankingTrainer.Options
            {
                LabelColumnName = LabelColumn,
                FeatureColumnName = FeaturesColumn,
                RowGroupColumnName = GroupColumn,
                NumberOfTrees = options.Trees,
                NumberOfLeaves = options.Leaves,
                LearningRate = options.LearningRate,
                MinimumExampleCountPerLeaf = options.MinimumExamplesPerLeaf,
                NumberOfThreads = options.Threads,
            });
            return new LearnedRanker(ml, trainer.Fit(data), width);
        }
        var lightGbm = ml.Ranking.Trainers.LightGbm(new LightGbmRankingTrainer.Options
        {
            LabelColumnName = LabelColumn,
            FeatureColumnName = FeaturesColumn,
            RowGroupColumnName = GroupColumn,
            NumberOfIterations = options.Trees,
            NumberOfLeaves = options.Leaves,
            LearningRate = options.LearningRate,
            MinimumExampleCountPerLeaf = options.MinimumExamplesPerLeaf,
            NumberOfThreads = options.Threads,
            Seed = options.Seed,
            Deterministic = true,
            Silent = true,
        });
        return new LearnedRanker(ml, lightGbm.Fit(data), width);
    }

    private static IDataView Load(MLContext ml, RankingGroup[] groups, int width)
    {
        var rows = new List<TrainingRow>(groups.Sum(g => g.Rows.Length));
        for (var k = 0; k < groups.Length; k++)
        {
            var group = groups[k];
            for (var r = 0; r < group.Rows.Length; r++)
            {
                // Key values start at 1 (0 is "missing"); a group's rows are contiguous, as LambdaRank needs.
                rows.Add(new TrainingRow { Features = group.Rows[r], Label = group.Relevant[r] ? 1f : 0f, GroupId = (uint)k + 1 });
            }
        }
        var schema = SchemaDefinition.Create(typeof(TrainingRow));
        schema[nameof(TrainingRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        schema[nameof(TrainingRow.GroupId)].ColumnType = new KeyDataViewType(typeof(uint), groups.Length + 1);
        return ml.Data.LoadFromEnumerable(rows, schema);
    }

    /// <summary>One score per row (higher = better); comparable within a user's candidates.</summary>
    public float[] Score(float[][] rows)
    {
        if (rows.Length == 0)
        {
            return [];
        }
        var schema = SchemaDefinition.Create(typeof(ScoringRow));
        schema[nameof(ScoringRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, _width);
        var data = _ml.Data.LoadFromEnumerable(rows.Select(r => new ScoringRow { Features = r }), schema);
        var scored = _model.Transform(data);
        var scores = scored.GetColumn<float>("Score").ToArray();
        return scores;
    }

    /// <summary>Writes the model (ML.NET's zip format) to <paramref name="stream"/>.</summary>
    public void Save(Stream stream)
    {
        var schema = SchemaDefinition.Create(typeof(ScoringRow));
        schema[nameof(ScoringRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, _width);
        var input = _ml.Data.LoadFromEnumerable(Array.Empty<ScoringRow>(), schema);
        _ml.Model.Save(_model, input.Schema, stream);
    }

    public static LearnedRanker Load(Stream stream)
    {
        var ml = new MLContext();
        var model = ml.Model.Load(stream, out var schema);
        var width = schema[FeaturesColumn].Type is VectorDataViewType vector ? vector.Size : 0;
        return new LearnedRanker(ml, model, width);
    }

    private sealed class TrainingRow
    {
        public float[] Features { get; set; } = [];
        public float Label { get; set; }
        public uint GroupId { get; set; }
    }

    private sealed class ScoringRow
    {
        public float[] Features { get; set; } = [];
    }
}
