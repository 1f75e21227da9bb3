using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using RecApp.Engine.Domain;

namespace RecApp.Engine;

/// <summary>
/// Every knob of the model builders, the snapshot and scoring: section <c>Recommendations</c>, one sub-section per
/// concern (history, popularity, neighbors, embeddings, tuning, scoring, store). Defaults are documented here and in
/// README.md's configuration table; bad values fail start-up naming the key (<see cref="RecommendationOptionsValidator"/>).
/// </summary>
public sealed class RecommendationOptions
{
    public const string SectionName = "Recommendations";

    /// <summary>How a user's events weigh: by type, and fading with age.</summary>
    [ValidateObjectMembers]
    public HistoryOptions History { get; set; } = new();

    /// <summary>The popular and trending lists.</summary>
    [ValidateObjectMembers]
    public PopularityOptions Popularity { get; set; } = new();

    /// <summary>Item neighbors (item-kNN, EASE, content), user neighbors and profiles.</summary>
    [ValidateObjectMembers]
    public NeighborOptions Neighbors { get; set; } = new();

    /// <summary>The embedding source (implicit-feedback ALS).</summary>
    [ValidateObjectMembers]
    public EmbeddingOptions Embeddings { get; set; } = new();

    /// <summary>What a build chooses on its validation split.</summary>
    [ValidateObjectMembers]
    public TuningOptions Tuning { get; set; } = new();

    /// <summary>How a request's list is ranked: the configured blend, fusion, freshness, diversity.</summary>
    [ValidateObjectMembers]
    public ScoringOptions Scoring { get; set; } = new();

    /// <summary>Model versions in the database and the API's snapshot of them.</summary>
    [ValidateObjectMembers]
    public StoreOptions Store { get; set; } = new();

    /// <summary>Weight of one event of <paramref name="type"/> (value is the rating for ratings).</summary>
    public float EventWeight(InteractionType type, float? value) => History.EventWeight(type, value);

    /// <summary>Decay factor of an event <paramref name="ageDays"/> old (measured from the data's clock), with this half-life.</summary>
    public float Decay(double ageDays) => Decay(ageDays, History.DecayHalfLifeDays);

    /// <summary>
    /// <c>0.5^(age / halfLife)</c>, 1 when the half-life is 0, never below <see cref="MinimumDecay"/>: an event decades
    /// old still counts a little (and still marks its item as seen) instead of underflowing to zero.
    /// </summary>
    public static float Decay(double ageDays, double halfLifeDays) =>
        halfLifeDays <= 0 ? 1f : Math.Max((float)Math.Pow(0.5, Math.Max(ageDays, 0) / halfLifeDays), MinimumDecay);

    /// <summary>The smallest decay factor (see <see cref="Decay(double, double)"/>).</summary>
    public const float MinimumDecay = 1e-6f;

    /// <summary>A deep copy to adjust (the build tries settings on copies; options bound from configuration stay as they are).</summary>
    public RecommendationOptions Clone() => new()
    {
        History = (HistoryOptions)History.MemberwiseCopy(),
        Popularity = (PopularityOptions)Popularity.MemberwiseCopy(),
        Neighbors = (NeighborOptions)Neighbors.MemberwiseCopy(),
        Embeddings = (EmbeddingOptions)Embeddings.MemberwiseCopy(),
        Tuning = (TuningOptions)Tuning.MemberwiseCopy(),
        Scoring = (ScoringOptions)Scoring.MemberwiseCopy(),
        Store = (StoreOptions)Store.MemberwiseCopy(),
    };

    /// <summary>
    /// The settings scoring reads on every request, as paths under this section (<c>Scoring:ItemKnnShare</c>): what an
    /// experiment variant may change. Every other setting shapes what a build stores, so a variant naming one would change
    /// nothing.
    /// </summary>
    public static IReadOnlyList<string> ScoringTimeSettings { get; } =
    [
        .. SettingsOf(nameof(History), typeof(HistoryOptions)),
        .. SettingsOf(nameof(Scoring), typeof(ScoringOptions)),
        $"{nameof(Popularity)}:{nameof(PopularityOptions.TrendingWeight)}",
        $"{nameof(Embeddings)}:{nameof(EmbeddingOptions.Candidates)}",
    ];

    /// <summary>
    /// The path among <see cref="ScoringTimeSettings"/> that <paramref name="name"/> names: the path itself or its last
    /// part alone (<c>ItemKnnShare</c>), case-insensitive; null when it names none.
    /// </summary>
    public static string? FindScoringTimeSetting(string name) =>
        ScoringTimeSettings.FirstOrDefault(path =>
            string.Equals(path, name, StringComparison.OrdinalIgnoreCase) ||
            string.Equals(path[(path.IndexOf(':') + 1)..], name, StringComparison.OrdinalIgnoreCase));

    private static IEnumerable<string> SettingsOf(string section, Type options) =>
        options.GetProperties().Where(p => p.CanWrite).Select(p => $"{section}:{p.Name}");

    /// <summary>These options with another decay half-life (e.g. the one a build's tuning chose).</summary>
    internal RecommendationOptions WithDecay(double halfLifeDays)
    {
        if (halfLifeDays == History.DecayHalfLifeDays)
        {
            return this;
        }
        var copy = Clone();
        copy.History.DecayHalfLifeDays = halfLifeDays;
        return copy;
    }

    /// <summary>These options with the popular lists' half-life as the decay: what the popular lists are built with.</summary>
    internal RecommendationOptions ForPopularity() => WithDecay(Popularity.HalfLifeDays);
}

/// <summary>Base of the sections: a shallow copy (their values are all plain).</summary>
public abstract class OptionsSection
{
    internal OptionsSection MemberwiseCopy() => (OptionsSection)MemberwiseClone();
}

/// <summary><c>Recommendations:History</c>.</summary>
public sealed class HistoryOptions : OptionsSection
{
    /// <summary>Weight of one event by type: purchase &gt; add_to_cart &gt; wishlist_add &gt; like &gt; click &gt; view.</summary>
    [Range(0, float.MaxValue)] public float ViewWeight { get; set; } = 0.5f;
    [Range(0, float.MaxValue)] public float ClickWeight { get; set; } = 1f;
    [Range(0, float.MaxValue)] public float LikeWeight { get; set; } = 2f;
    [Range(0, float.MaxValue)] public float WishlistAddWeight { get; set; } = 3f;
    [Range(0, float.MaxValue)] public float AddToCartWeight { get; set; } = 4f;
    [Range(0, float.MaxValue)] public float PurchaseWeight { get; set; } = 5f;

    /// <summary>A rating weighs <c>RatingWeight * value / RatingScale</c> (a 5/5 rating weighs like a purchase by default).</summary>
    [Range(0, float.MaxValue)] public float RatingWeight { get; set; } = 5f;
    [Range(1e-6, float.MaxValue)] public float RatingScale { get; set; } = 5f;

    /// <summary>Half-life of an event's weight in days (0 disables decay); the build may choose another (its tuning).</summary>
    [Range(0, double.MaxValue)] public double DecayHalfLifeDays { get; set; } = 30;

    /// <summary>Recent events read per scoring call (every item the user ever touched is still excluded and sets the tier).</summary>
    [Range(1, int.MaxValue)] public int RecentEvents { get; set; } = 1000;

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
}

/// <summary><c>Recommendations:Popularity</c>.</summary>
public sealed class PopularityOptions : OptionsSection
{
    /// <summary>
    /// Half-life in days of an event's weight in the popular lists (0 = all-time volume, the default: what is rising now
    /// is the trending list's job).
    /// </summary>
    [Range(0, double.MaxValue)] public double HalfLifeDays { get; set; }

    /// <summary>Length of each stored popular list (overall lists per segment).</summary>
    [Range(1, int.MaxValue)] public int ListSize { get; set; } = 200;

    /// <summary>Length of each per-category popular list.</summary>
    [Range(1, int.MaxValue)] public int CategoryListSize { get; set; } = 100;

    /// <summary>A demographic segment with fewer users is "thin": not stored, requests fall back to a broader one.</summary>
    [Range(1, int.MaxValue)] public int MinSegmentUsers { get; set; } = 30;

    /// <summary>Trending window in days, and the half-life inside it.</summary>
    [Range(1e-6, double.MaxValue)] public double TrendingDays { get; set; } = 7;
    [Range(0, double.MaxValue)] public double TrendingHalfLifeDays { get; set; } = 2;
    [Range(1, int.MaxValue)] public int TrendingListSize { get; set; } = 100;

    /// <summary>Weight of the trending score (relative to the best trending item) added to popular lists.</summary>
    [Range(0, float.MaxValue)] public float TrendingWeight { get; set; } = 0.2f;
}

/// <summary><c>Recommendations:Neighbors</c>.</summary>
public sealed class NeighborOptions : OptionsSection
{
    /// <summary>Collaborative neighbors kept per item.</summary>
    [Range(1, int.MaxValue)] public int ItemNeighbors { get; set; } = 50;

    /// <summary>Content (category/tags Jaccard) neighbors kept per item.</summary>
    [Range(0, int.MaxValue)] public int ContentNeighbors { get; set; } = 20;

    /// <summary>Shrinkage: similarity times <c>n / (n + Shrinkage)</c> where n is the number of co-occurring users.</summary>
    [Range(0, float.MaxValue)] public float Shrinkage { get; set; } = 10f;

    /// <summary>Popular-item damping: collaborative similarity divided by <c>users(neighbor) ^ PopularityDamping</c>.</summary>
    [Range(0, float.MaxValue)] public float PopularityDamping { get; set; } = 0.1f;

    /// <summary>Only a user's most recent distinct items count for co-occurrence (bounds the quadratic cost).</summary>
    [Range(1, int.MaxValue)] public int MaxHistoryPerUser { get; set; } = 50;

    /// <summary>Users sampled (deterministic stride) per item when counting co-occurrences: bounds hot items' cost.</summary>
    [Range(1, int.MaxValue)] public int MaxUsersPerItem { get; set; } = 1000;

    /// <summary>Tags shared by more items than this are skipped when looking for content candidates (still counted in the score).</summary>
    [Range(1, int.MaxValue)] public int MaxContentPostingLength { get; set; } = 2_000;

    /// <summary>
    /// Collaborative item model: <c>Auto</c> builds EASE as well when the catalog is small enough and keeps whichever
    /// wins on the validation split; <c>Knn</c> and <c>Ease</c> force one.
    /// </summary>
    [EnumDataType(typeof(CollaborativeModel))] public CollaborativeModel CollaborativeModel { get; set; } = CollaborativeModel.Auto;

    /// <summary>EASE is only built for at most this many items with interactions (dense n² memory, n³ time).</summary>
    [Range(1, int.MaxValue)] public int EaseMaxItems { get; set; } = 3000;

    /// <summary>EASE's L2 regularization λ.</summary>
    [Range(1e-9, double.MaxValue)] public double EaseLambda { get; set; } = 250;

    /// <summary>Weights kept per item from EASE's dense row.</summary>
    [Range(1, int.MaxValue)] public int EaseNeighbors { get; set; } = 400;

    /// <summary>Neighbors kept per user (the service contract's <c>MAX_SIMILAR_USERS</c>).</summary>
    [Range(1, int.MaxValue)] public int MaxSimilarUsers { get; set; } = 20;

    /// <summary>Items precomputed per user from their neighbors' histories.</summary>
    [Range(1, int.MaxValue)] public int UserNeighborItems { get; set; } = 50;

    /// <summary>Users with fewer distinct items get no neighbors (only the 3+ tier blends user neighbors).</summary>
    [Range(1, int.MaxValue)] public int UserNeighborMinItems { get; set; } = 3;

    /// <summary>Recent distinct items of a user used to find neighbors (and of a neighbor, to propose items).</summary>
    [Range(1, int.MaxValue)] public int UserNeighborHistory { get; set; } = 20;

    /// <summary>Users sampled per item (deterministic stride) when looking for neighbors: bounds hot items' cost.</summary>
    [Range(1, int.MaxValue)] public int UserNeighborItemUsers { get; set; } = 50;

    /// <summary>Tags kept in a profile.</summary>
    [Range(0, int.MaxValue)] public int ProfileTags { get; set; } = 20;
}

/// <summary><c>Recommendations:Embeddings</c>.</summary>
public sealed class EmbeddingOptions : OptionsSection
{
    /// <summary>
    /// Dimensions of the item and user vectors of the implicit-feedback factorisation (0 = no embedding source). Large
    /// data gets fewer (<see cref="BuildBudget"/>).
    /// </summary>
    [Range(0, 1024, ErrorMessage = "Recommendations:Embeddings:Factors must be between 0 (no embedding source) and 1024.")]
    public int Factors { get; set; } = 128;

    /// <summary>Alternating least-squares sweeps (each solves every item, then every user).</summary>
    [Range(1, 1000)] public int Iterations { get; set; } = 15;

    /// <summary>
    /// Sweeps of a rebuild that keeps the search's choices (<see cref="TuningOptions.KeepFor"/>): it starts from the previous
    /// build's vectors instead of random ones (0 = every build starts cold; at or above the fitted sweeps it changes nothing).
    /// </summary>
    [Range(0, 1000, ErrorMessage = "Recommendations:Embeddings:WarmIterations must be between 0 (always a cold start) and 1000.")]
    public int WarmIterations { get; set; } = 5;

    /// <summary>
    /// Multiply-adds one factorisation may cost (8e10 ≈ 10 s of CPU): larger data gets fewer dimensions (down to 64),
    /// then fewer sweeps (down to 10), then 32 dimensions and down to 5 sweeps.
    /// </summary>
    [Range(1e6, double.MaxValue)] public double BuildBudget { get; set; } = 8e10;

    /// <summary>Items the embedding source proposes per user (top by dot product with the user's folded-in vector).</summary>
    [Range(1, int.MaxValue)] public int Candidates { get; set; } = 200;
}

/// <summary><c>Recommendations:Tuning</c>.</summary>
public sealed class TuningOptions : OptionsSection
{
    /// <summary>
    /// CPU time (this process, all cores) the similarities build may spend choosing the collaborative model, EASE λ, the
    /// decay and the blend weights on a validation split; the first try of each step always runs (0 = no tuning:
    /// configured settings and a kNN/EASE holdout).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")] public TimeSpan Budget { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Validation users scored per setting tried.</summary>
    [Range(1, int.MaxValue)] public int Users { get; set; } = 1000;

    /// <summary>Users whose data trains the validation model (a seeded sample beyond this: a cheaper model on big data).</summary>
    [Range(1, int.MaxValue)] public int TrainUsers { get; set; } = 20_000;

    /// <summary>
    /// How long the Refresher keeps a search's choices: a similarities build within this time of the last search, on data
    /// whose interaction count moved by at most <see cref="RetuneAfterGrowth"/> since, refits its parts with those choices
    /// instead of searching again (at S the search is over half of the build). A restart searches again. 0 = search on
    /// every build.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")] public TimeSpan KeepFor { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Share by which the interaction count may grow (or shrink) before a build searches again within <see cref="KeepFor"/>.</summary>
    [Range(0, 1000)] public double RetuneAfterGrowth { get; set; } = 0.1;
}

/// <summary><c>Recommendations:Scoring</c>: what an experiment variant may change (it is read per request).</summary>
public sealed class ScoringOptions : OptionsSection
{
    /// <summary>Configured blend for users with 3+ items (the build's tuning replaces it): collaborative, content, popularity.</summary>
    [Range(0, float.MaxValue)] public float CollaborativeWeight { get; set; } = 0.4f;
    [Range(0, float.MaxValue)] public float ContentWeight { get; set; } = 0.3f;
    [Range(0, float.MaxValue)] public float PopularityWeight { get; set; } = 0.3f;

    /// <summary>Share of item neighbors inside the collaborative weight (the rest is user neighbors).</summary>
    [Range(0, 1)] public float ItemKnnShare { get; set; } = 0.8f;

    /// <summary>Configured weight of the embedding source.</summary>
    [Range(0, float.MaxValue)] public float EmbeddingWeight { get; set; } = 0.4f;

    /// <summary>
    /// Reciprocal-rank fusion constant c: each source contributes <c>weight × (c + 1) / (c + rank)</c>, so sources whose
    /// raw scores have different shapes mix by rank, not by scale.
    /// </summary>
    [Range(0, float.MaxValue)] public float BlendRankConstant { get; set; } = 60f;

    /// <summary>Content scores times <c>1 + ContentPopularityBoost × p</c>, p = the item's popularity in its category relative to the best (0 disables).</summary>
    [Range(0, float.MaxValue)] public float ContentPopularityBoost { get; set; } = 4f;

    /// <summary>Length of the full ranked list handed to the API (it slices pages).</summary>
    [Range(1, int.MaxValue)] public int MaxResults { get; set; } = 200;

    /// <summary>Diversity: at most this share of one category in each window of <see cref="DiversityPageSize"/> items.</summary>
    [Range(1e-9, 1.0)] public double MaxCategoryShare { get; set; } = 0.5;
    [Range(1, int.MaxValue)] public int DiversityPageSize { get; set; } = 20;

    /// <summary>Items created less than this many days ago get up to <see cref="FreshnessBoost"/> extra (linear fade).</summary>
    [Range(0, double.MaxValue)] public double FreshnessDays { get; set; } = 14;
    [Range(0, float.MaxValue)] public float FreshnessBoost { get; set; } = 0.1f;
}

/// <summary><c>Recommendations:Store</c>.</summary>
public sealed class StoreOptions : OptionsSection
{
    /// <summary>How often each API instance polls <c>model_current</c> and item changes.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")] public TimeSpan SnapshotPollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long start-up waits for the first snapshot load before serving from the empty model.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")] public TimeSpan SnapshotStartupWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A job reuses a dataset the previous job released this recently (the start-up run builds every part from one read).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")] public TimeSpan DatasetReuseWindow { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Cleanup keeps this many retired versions per part (for inspection), drops the rest.</summary>
    [Range(0, int.MaxValue)] public int KeepRetiredVersions { get; set; } = 1;

    /// <summary>A version still 'building' after this long belongs to a crashed job: cleanup marks it failed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "3650.00:00:00")] public TimeSpan StaleBuildAfter { get; set; } = TimeSpan.FromHours(6);

    /// <summary>Cleanup deletes job_runs and handled refresh_requests older than this.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "3650.00:00:00")] public TimeSpan JobHistoryRetention { get; set; } = TimeSpan.FromDays(7);
}

public enum CollaborativeModel
{
    Auto,
    Knn,
    Ease,
}
