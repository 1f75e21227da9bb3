namespace RecApp.Recommendations.Model;

/// <summary>
/// Weights of the learned blend of the 3+ tier: each candidate source adds <c>weight × (c + 1) / (c + rank)</c> for
/// the items it proposes (weighted reciprocal-rank fusion). Fitted on a validation split at build time
/// (<see cref="ModelTuner"/>); the configured defaults apply until a build has chosen.
/// </summary>
public sealed record BlendWeights(float ItemNeighbors, float UserNeighbors, float Content, float Popular, float Embeddings = 0f)
{
    /// <summary>The configured blend: collaborative split into item and user neighbors by <c>ItemKnnShare</c>.</summary>
    public static BlendWeights From(RecommendationOptions options) => new(
        options.CollaborativeWeight * options.ItemKnnShare,
        options.CollaborativeWeight * (1f - options.ItemKnnShare),
        options.ContentWeight,
        options.PopularityWeight,
        options.EmbeddingWeight);

    public float this[int source] => source switch
    {
        0 => ItemNeighbors,
        1 => UserNeighbors,
        2 => Content,
        3 => Popular,
        _ => Embeddings,
    };

    public BlendWeights With(int source, float value) => source switch
    {
        0 => this with { ItemNeighbors = value },
        1 => this with { UserNeighbors = value },
        2 => this with { Content = value },
        3 => this with { Popular = value },
        _ => this with { Embeddings = value },
    };

    public const int SourceCount = 5;

    /// <summary>The sources' names, in this order (what operators see per item in the console's explorer).</summary>
    public static IReadOnlyList<string> SourceNames { get; } = ["item_neighbors", "user_neighbors", "content", "popular", "embeddings"];

    /// <summary>The index of <see cref="Embeddings"/>.</summary>
    public const int EmbeddingsSource = 4;
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
    public double? DecayHalfLifeDays { get; init; }
    public BlendWeights? Blend { get; init; }
    public string? ItemModel { get; init; }
    public double? EaseLambda { get; init; }
    public double? ValidationNdcg { get; init; }
    public double? DefaultsValidationNdcg { get; init; }
    public int ValidationUsers { get; init; }
    public int SettingsTried { get; init; }
    public double TuningSeconds { get; init; }

    /// <summary>The newest event time of <paramref name="interactions"/> (null when there are none).</summary>
    public static DateTime? NewestEvent(ReadOnlySpan<Data.Interaction> interactions)
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
