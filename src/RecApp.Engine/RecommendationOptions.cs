using RecApp.Engine.Domain;


namespace RecApp.Engine;

/// <summary>
/// Every knob of the model builders, the snapshot and scoring, bound from configuration section
/// <c>Recommendations</c>. Defaults are documented in README.md (engine section) and here.
/// </summary>
public sealed class RecommendationOptions
{
    public const string SectionName = "Recommendations";

    // ---- Signal weights -------------------------------------------------------------------------------------

    /// <summary>Weight of one event by type: purchase &gt; add_to_cart &gt; wishlist_add &gt; like &gt; click &gt; view.</summary>
    public float ViewWeight { get; set; } = 0.5f;
    public float ClickWeight { get; set; } = 1f;
    public float LikeWeight { get; set; } = 2f;
    public float WishlistAddWeight { get; set; } = 3f;
    public float AddToCartWeight { get; set; } = 4f;
    public float PurchaseWeight { get; set; } = 5f;

    /// <summary>A rating weighs <c>RatingWeight * value / RatingScale</c> (a 5/5 rating weighs like a purchase by default).</summary>
    public float RatingWeight { get; set; } = 5f;
    public float RatingScale { get; set; } = 5f;

    /// <summary>Half-life of an event's weight in days (0 disables decay).</summary>
    public double DecayHalfLifeDays { get; set; } = 30;

    // ---- Popularity and trending ----------------------------------------------------------------------------

    /// <summary>
    /// Half-life in days of an event's weight in the popular lists (0 = all-time volume, the default: what is rising now
    /// is the trending list's job, <see cref="TrendingDays"/>).
    /// </summary>
    public double PopularityHalfLifeDays { get; set; }

    /// <summary>These options with <see cref="DecayHalfLifeDays"/> = <see cref="PopularityHalfLifeDays"/>: what the popular lists are built with.</summary>
    internal RecommendationOptions ForPopularity()
    {
        if (PopularityHalfLifeDays == DecayHalfLifeDays)
        {
            return this;
        }
        var copy = Clone();
        copy.DecayHalfLifeDays = PopularityHalfLifeDays;
        return copy;
    }

    /// <summary>Length of each stored popular list (overall lists per segment).</summary>
    public int PopularListSize { get; set; } = 200;

    /// <summary>Length of each per-category popular list.</summary>
    public int PopularCategoryListSize { get; set; } = 100;

    /// <summary>A demographic segment with fewer users is "thin": not stored, requests fall back to a broader one.</summary>
    public int MinSegmentUsers { get; set; } = 30;

    /// <summary>Trending window in days, and the half-life inside it.</summary>
    public double TrendingDays { get; set; } = 7;
    public double TrendingHalfLifeDays { get; set; } = 2;
    public int TrendingListSize { get; set; } = 100;

    /// <summary>Weight of the trending score (relative to the best trending item) added to popular lists.</summary>
    public float TrendingWeight { get; set; } = 0.2f;

    // ---- Item neighbors -------------------------------------------------------------------------------------

    /// <summary>Collaborative neighbors kept per item.</summary>
    public int ItemNeighbors { get; set; } = 50;

    /// <summary>Content (category/tags Jaccard) neighbors kept per item.</summary>
    public int ContentNeighbors { get; set; } = 20;

    /// <summary>Shrinkage: similarity times <c>n / (n + Shrinkage)</c> where n is the number of co-occurring users.</summary>
    public float Shrinkage { get; set; } = 10f;

    /// <summary>Popular-item damping: collaborative similarity divided by <c>users(neighbor) ^ PopularityDamping</c>.</summary>
    public float PopularityDamping { get; set; } = 0.1f;

    /// <summary>Only a user's most recent distinct items count for co-occurrence (bounds the quadratic cost).</summary>
    public int MaxHistoryPerUser { get; set; } = 50;

    /// <summary>Users sampled (deterministic stride) per item when counting co-occurrences: bounds hot items' cost.</summary>
    public int MaxUsersPerItem { get; set; } = 1000;

    /// <summary>Tags shared by more items than this are skipped when looking for content candidates (still counted in the score).</summary>
    public int MaxContentPostingLength { get; set; } = 2_000;

    /// <summary>
    /// Collaborative item model: <c>Auto</c> builds EASE as well when the catalog is small enough and keeps whichever
    /// wins a holdout on the training data; <c>Knn</c> and <c>Ease</c> force one.
    /// </summary>
    public CollaborativeModel CollaborativeModel { get; set; } = CollaborativeModel.Auto;

    /// <summary>EASE is only built for at most this many items with interactions (dense n² memory, n³ time).</summary>
    public int EaseMaxItems { get; set; } = 3000;

    /// <summary>EASE's L2 regularization λ.</summary>
    public double EaseLambda { get; set; } = 250;

    /// <summary>Weights kept per item from EASE's dense row.</summary>
    public int EaseNeighbors { get; set; } = 400;

    // ---- Embeddings (iALS) -------------------------------------------------------------------------------------

    /// <summary>
    /// Dimensions of the item and user vectors of the implicit-feedback factorisation, the embedding candidate source
    /// (0 = no embedding source). Large data gets fewer (<see cref="EmbeddingBuildBudget"/>).
    /// </summary>
    public int EmbeddingFactors { get; set; } = 128;

    /// <summary>Alternating least-squares sweeps (each solves every item, then every user).</summary>
    public int EmbeddingIterations { get; set; } = 15;

    /// <summary>
    /// Multiply-adds one factorisation may cost (<c>ImplicitAlsSettings.EstimatedMultiplyAdds</c>, 8e10 ≈ 10 s of CPU):
    /// larger data gets fewer dimensions (down to 64), then fewer sweeps (down to 10), then 32 dimensions and down to 5
    /// sweeps. MovieLens- and Last.fm-sized data keep 128 × 15, synthetic S gets 64 × 15, L 64 × 10.
    /// </summary>
    public double EmbeddingBuildBudget { get; set; } = 8e10;

    /// <summary>Items the embedding source proposes per user (top by dot product with the user's folded-in vector).</summary>
    public int EmbeddingCandidates { get; set; } = 200;

    // ---- Build-time tuning (ModelTuner) ----------------------------------------------------------------------

    /// <summary>
    /// CPU time (this process, all cores) the similarities build may spend choosing the collaborative model, EASE λ, the
    /// decay and the blend weights on a validation split; the first try of each step always runs (0 = no tuning:
    /// configured settings and a kNN/EASE holdout).
    /// </summary>
    public TimeSpan TuningBudget { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Validation users scored per setting tried.</summary>
    public int TuningUsers { get; set; } = 1000;

    /// <summary>Users whose data trains the validation model (a seeded sample beyond this: a cheaper model on big data).</summary>
    public int TuningTrainUsers { get; set; } = 20_000;

    // ---- Users ----------------------------------------------------------------------------------------------

    /// <summary>Neighbors kept per user (seed 002: MAX_SIMILAR_USERS).</summary>
    public int MaxSimilarUsers { get; set; } = 20;

    /// <summary>Items precomputed per user from their neighbors' histories.</summary>
    public int UserNeighborItems { get; set; } = 50;

    /// <summary>Users with fewer distinct items get no neighbors (only the 3+ tier blends user neighbors).</summary>
    public int UserNeighborMinItems { get; set; } = 3;

    /// <summary>Recent distinct items of a user used to find neighbors (and of a neighbor, to propose items).</summary>
    public int UserNeighborHistory { get; set; } = 20;

    /// <summary>Users sampled per item (deterministic stride) when looking for neighbors: bounds hot items' cost.</summary>
    public int UserNeighborItemUsers { get; set; } = 50;

    /// <summary>Tags kept in a profile.</summary>
    public int ProfileTags { get; set; } = 20;

    // ---- Scoring --------------------------------------------------------------------------------------------

    /// <summary>Blend for users with 3+ items (seed 000: 0.4 / 0.3 / 0.3).</summary>
    public float CollaborativeWeight { get; set; } = 0.4f;
    public float ContentWeight { get; set; } = 0.3f;
    public float PopularityWeight { get; set; } = 0.3f;

    /// <summary>Share of item-kNN inside the collaborative score (the rest is user-kNN).</summary>
    public float ItemKnnShare { get; set; } = 0.8f;

    /// <summary>Configured blend weight of the embedding source (the build's tuning replaces it with a fitted one).</summary>
    public float EmbeddingWeight { get; set; } = 0.4f;

    /// <summary>
    /// Reciprocal-rank fusion constant c of the 3+ tier blend: each source contributes <c>weight × (c + 1) / (c + rank)</c>,
    /// so sources whose raw scores have different shapes (sums over a history, Zipf counts) mix by rank, not by scale.
    /// </summary>
    public float BlendRankConstant { get; set; } = 60f;

    /// <summary>
    /// Content scores times <c>1 + ContentPopularityBoost × p</c>, p = the item's popularity in its category relative to the
    /// category's best (0 disables): profile and tags say which items fit, popularity orders items that fit equally.
    /// </summary>
    public float ContentPopularityBoost { get; set; } = 4f;

    /// <summary>Recent events read from PostgreSQL per scoring call.</summary>
    public int RecentHistory { get; set; } = 1000;

    /// <summary>Length of the full ranked list handed to the API (it slices pages).</summary>
    public int MaxResults { get; set; } = 200;

    /// <summary>Diversity: at most this share of one category in each window of <see cref="DiversityPageSize"/> items.</summary>
    public double MaxCategoryShare { get; set; } = 0.5;
    public int DiversityPageSize { get; set; } = 20;

    /// <summary>Items created less than this many days ago get up to <see cref="FreshnessBoost"/> extra (linear fade).</summary>
    public double FreshnessDays { get; set; } = 14;
    public float FreshnessBoost { get; set; } = 0.1f;

    // ---- Snapshot and jobs ----------------------------------------------------------------------------------

    /// <summary>How often each API instance polls <c>model_current</c> and item changes.</summary>
    public TimeSpan SnapshotPollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long start-up waits for the first snapshot load before serving from the empty model.</summary>
    public TimeSpan SnapshotStartupWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A job reuses a dataset read this recently (the start-up run builds every part from one read).</summary>
    public TimeSpan DatasetReuseWindow { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Cleanup keeps this many retired versions per part (for inspection), drops the rest.</summary>
    public int KeepRetiredVersions { get; set; } = 1;

    /// <summary>A version still 'building' after this long belongs to a crashed job: cleanup marks it failed.</summary>
    public TimeSpan StaleBuildAfter { get; set; } = TimeSpan.FromHours(6);

    /// <summary>Cleanup deletes job_runs and handled refresh_requests older than this.</summary>
    public TimeSpan JobHistoryRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Weight of one event of <paramref name="type"/> (value is the rating for ratings).</summary>
    public float EventWeight(InteractionType type, float? value) => type switch
    {
        InteractionType.View => ViewWeight,
        InteractionType.Click => ClickWeight,
        InteractionType.Like => LikeWeight,
        InteractionType.WishlistAdd => WishlistAddWeight,
        InteractionType.AddToCart => AddToCartWeight,
        InteractionType.Purchase => PurchaseWeight,
        InteractionType.Rating => RatingWeight * Math.Clamp(value ?? RatingScale, 0f, RatingScale) / RatingScale,
        _ => 0f,
    };

    /// <summary>Decay factor of an event <paramref name="ageDays"/> old (measured from the data's clock), with this half-life.</summary>
    public float Decay(double ageDays) => Decay(ageDays, DecayHalfLifeDays);

    /// <summary>
    /// <c>0.5^(age / halfLife)</c>, 1 when the half-life is 0, never below <see cref="MinimumDecay"/>: an event decades
    /// old still counts a little (and still marks its item as seen) instead of underflowing to zero.
    /// </summary>
    public static float Decay(double ageDays, double halfLifeDays) =>
        halfLifeDays <= 0 ? 1f : Math.Max((float)Math.Pow(0.5, Math.Max(ageDays, 0) / halfLifeDays), MinimumDecay);

    /// <summary>The smallest decay factor (see <see cref="Decay(double, double)"/>).</summary>
    public const float MinimumDecay = 1e-6f;

    /// <summary>A copy to adjust (the build tries settings on copies; options bound from configuration stay as they are).</summary>
    public RecommendationOptions Clone() => (RecommendationOptions)MemberwiseClone();

    /// <summary>These options with another <see cref="DecayHalfLifeDays"/> (e.g. the one a build's tuning chose).</summary>
    internal RecommendationOptions WithDecay(double halfLifeDays)
    {
        if (halfLifeDays == DecayHalfLifeDays)
        {
            return this;
        }
        var copy = Clone();
        copy.DecayHalfLifeDays = halfLifeDays;
        return copy;
    }
}

public enum CollaborativeModel
{
    Auto,
    Knn,
    Ease,
}
