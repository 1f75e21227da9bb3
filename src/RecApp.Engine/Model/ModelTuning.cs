using RecApp.Engine.Domain;

namespace RecApp.Engine.Model;

/// <summary>
/// Weights of the learned blend of the 3+ tier: each candidate source adds <c>weight × (c + 1) / (c + rank)</c> for
/// the items it proposes (weighted reciprocal-rank fusion). Fitted on a validation split at build time
/// (<see cref="RecApp.Engine.Training.ModelTuner"/>); the configured defaults apply until a build has chosen.
/// </summary>
public sealed record BlendWeights(float ItemNeighbors, float UserNeighbors, float Content, float Popular, float Embeddings = 0f)
{
    private static string Scoring(string key) => $"{nameof(RecommendationOptions.Scoring)}:{key}";

    // Declared before SettingNames: static initializers run in text order.
    private static readonly string CollaborativeWeightSetting = Scoring(nameof(ScoringOptions.CollaborativeWeight));
    private static readonly string ItemKnnShareSetting = Scoring(nameof(ScoringOptions.ItemKnnShare));
    private static readonly string ContentWeightSetting = Scoring(nameof(ScoringOptions.ContentWeight));
    private static readonly string PopularityWeightSetting = Scoring(nameof(ScoringOptions.PopularityWeight));
    private static readonly string EmbeddingWeightSetting = Scoring(nameof(ScoringOptions.EmbeddingWeight));

    /// <summary>
    /// The settings the blend is configured by (paths under <c>Recommendations</c>), the one list of them: the configured
    /// blend (<see cref="From"/>), the blend a build starts tuning from, and an experiment variant's changes
    /// (<see cref="WithSettings"/>) all read these.
    /// </summary>
    public static IReadOnlyList<string> SettingNames { get; } =
    [
        CollaborativeWeightSetting, ItemKnnShareSetting, ContentWeightSetting, PopularityWeightSetting, EmbeddingWeightSetting,
    ];

    /// <summary>The configured blend: collaborative split into item and user neighbors by <c>ItemKnnShare</c>.</summary>
    public static BlendWeights From(RecommendationOptions options) => new(
        options.Scoring.CollaborativeWeight * options.Scoring.ItemKnnShare,
        options.Scoring.CollaborativeWeight * (1f - options.Scoring.ItemKnnShare),
        options.Scoring.ContentWeight,
        options.Scoring.PopularityWeight,
        options.Scoring.EmbeddingWeight);

    /// <summary>
    /// This blend with only the <paramref name="settings"/> named (of <see cref="SettingNames"/>, case-insensitive) taken
    /// from <paramref name="options"/>; every other weight stays as it is. <c>Scoring:CollaborativeWeight</c> and
    /// <c>Scoring:ItemKnnShare</c> act on the item and user neighbor weights together: each keeps the other's current value
    /// (the total of the two, or the item neighbors' share of it).
    /// </summary>
    public BlendWeights WithSettings(RecommendationOptions options, IEnumerable<string> settings)
    {
        var named = new HashSet<string>(settings, StringComparer.OrdinalIgnoreCase);
        var blend = this;
        var collaborative = named.Contains(CollaborativeWeightSetting);
        var share = named.Contains(ItemKnnShareSetting);
        if (collaborative || share)
        {
            var total = ItemNeighbors + UserNeighbors;
            var newTotal = collaborative ? options.Scoring.CollaborativeWeight : total;
            var newShare = share ? options.Scoring.ItemKnnShare : total > 0 ? ItemNeighbors / total : options.Scoring.ItemKnnShare;
            blend = blend with { ItemNeighbors = newTotal * newShare, UserNeighbors = newTotal * (1f - newShare) };
        }
        if (named.Contains(ContentWeightSetting))
        {
            blend = blend with { Content = options.Scoring.ContentWeight };
        }
        if (named.Contains(PopularityWeightSetting))
        {
            blend = blend with { Popular = options.Scoring.PopularityWeight };
        }
        if (named.Contains(EmbeddingWeightSetting))
        {
            blend = blend with { Embeddings = options.Scoring.EmbeddingWeight };
        }
        return blend;
    }

    /// <summary>The weight of the source at <paramref name="source"/> in <see cref="SourceNames"/>.</summary>
    public float this[int source] => source switch
    {
        0 => ItemNeighbors,
        1 => UserNeighbors,
        2 => Content,
        3 => Popular,
        _ => Embeddings,
    };

    /// <summary>This blend with the weight of the source at <paramref name="source"/> replaced.</summary>
    public BlendWeights With(int source, float value) => source switch
    {
        0 => this with { ItemNeighbors = value },
        1 => this with { UserNeighbors = value },
        2 => this with { Content = value },
        3 => this with { Popular = value },
        _ => this with { Embeddings = value },
    };

    /// <summary>The weight of the source named <paramref name="source"/> (one of <see cref="SourceNames"/>).</summary>
    public float For(string source) => this[IndexOf(source)];

    public const string ItemNeighborsSource = "item_neighbors";
    public const string UserNeighborsSource = "user_neighbors";
    public const string ContentSource = "content";
    public const string PopularSource = "popular";
    public const string EmbeddingsSource = "embeddings";

    /// <summary>
    /// The sources a blend weighs, by name, in the order the fusion adds them up (the order is fixed: a float sum's
    /// result depends on it): what candidate sources are called, what operators see per item in the console's explorer.
    /// </summary>
    public static IReadOnlyList<string> SourceNames => s_sourceNames;

    private static readonly string[] s_sourceNames = [ItemNeighborsSource, UserNeighborsSource, ContentSource, PopularSource, EmbeddingsSource];

    public static int SourceCount => s_sourceNames.Length;

    /// <summary>The position of a source in <see cref="SourceNames"/>.</summary>
    public static int IndexOf(string source) =>
        Array.IndexOf(s_sourceNames, source) is var index and >= 0 ? index : throw new ArgumentException($"No blend source is named '{source}'.", nameof(source));
}

/// <summary>
/// What a build chose and measured, published as the <c>tuning</c> part (its <c>model_versions.details</c>) and read back into
/// every snapshot, so the API scores with the settings the model was tuned for:
/// <list type="bullet">
/// <item><see cref="DataClock"/>: the newest interaction the build saw. Decay, trending and freshness are measured
/// from it (the data's own clock), so historical data serves as well as live data.</item>
/// <item>The decay half-life, the collaborative model and its λ, the blend weights, and the validation nDCG@10 of
/// the chosen settings next to that of the configured defaults.</item>
/// </list>
/// Null fields mean "not chosen by a build": the configured option applies.
/// </summary>
public sealed record ModelTuning
{
    public static ModelTuning Default { get; } = new();

    public DateTime? DataClock { get; init; }

    /// <summary>
    /// The data clock of the build whose search made these choices: <see cref="DataClock"/> when this build searched,
    /// an earlier build's when this one kept its choices (<see cref="RecApp.Engine.TuningOptions.KeepFor"/>).
    /// </summary>
    public DateTime? TunedDataClock { get; init; }
    public double? DecayHalfLifeDays { get; init; }
    public BlendWeights? Blend { get; init; }
    public string? ItemModel { get; init; }
    public double? EaseLambda { get; init; }
    public double? ValidationNdcg { get; init; }
    public double? DefaultsValidationNdcg { get; init; }
    public int ValidationUsers { get; init; }
    public int SettingsTried { get; init; }
    public double TuningSeconds { get; init; }

    /// <summary>What the build sampled or chose instead because of the data's size (null when nothing).</summary>
    public string? ScaleChoices { get; init; }

    /// <summary>
    /// Whether this build's embedding fit started from the previous build's vectors
    /// (<see cref="RecApp.Engine.EmbeddingOptions.WarmIterations"/> sweeps) rather than from random ones.
    /// </summary>
    public bool EmbeddingsWarmStarted { get; init; }

    /// <summary>The decay half-life's setting, the tuned value it replaces.</summary>
    public static readonly string DecaySetting = $"{nameof(RecommendationOptions.History)}:{nameof(HistoryOptions.DecayHalfLifeDays)}";

    /// <summary>
    /// What a build chose, with the <see cref="RecommendationOptions"/> settings <paramref name="settings"/> names taken
    /// from <paramref name="options"/> instead (an experiment variant's changes): each named blend weight replaces only
    /// itself in the tuned blend (<see cref="BlendWeights.WithSettings"/>), a named decay half-life replaces the tuned
    /// one; everything else stays as the build chose it.
    /// </summary>
    public ModelTuning WithSettings(RecommendationOptions options, IReadOnlyCollection<string> settings)
    {
        var blendSettings = settings.Where(s => BlendWeights.SettingNames.Contains(s, StringComparer.OrdinalIgnoreCase)).ToArray();
        var decay = settings.Contains(DecaySetting, StringComparer.OrdinalIgnoreCase);
        if (blendSettings.Length == 0 && !decay)
        {
            return this;
        }
        return this with
        {
            Blend = blendSettings.Length == 0 ? Blend : (Blend ?? BlendWeights.From(options)).WithSettings(options, blendSettings),
            DecayHalfLifeDays = decay ? null : DecayHalfLifeDays,
        };
    }

    /// <summary>The newest event time of <paramref name="interactions"/> (null when there are none).</summary>
    public static DateTime? NewestEvent(ReadOnlySpan<Interaction> interactions)
    {
        if (interactions.IsEmpty)
        {
            return null;
        }
        var newest = DateTime.MinValue;
        foreach (var e in interactions)
        {
            if (e.OccurredAt > newest)
            {
                newest = e.OccurredAt;
            }
        }
        return DateTime.SpecifyKind(newest, DateTimeKind.Utc);
    }
}
