using Microsoft.Extensions.Options;
using RecApp.Engine.Domain;

namespace RecApp.Engine;

/// <summary>
/// Start-up validation of <see cref="RecommendationOptions"/> (registered with <c>ValidateOnStart</c>): every bad value
/// fails, naming its setting as configured (<c>Recommendations:Key</c>) and the allowed range.
/// </summary>
public sealed class RecommendationOptionsValidator : IValidateOptions<RecommendationOptions>
{
    public ValidateOptionsResult Validate(string? name, RecommendationOptions o)
    {
        var failures = new List<string>();
        void Check(bool ok, string key, string rule, object value)
        {
            if (!ok)
            {
                failures.Add($"{RecommendationOptions.SectionName}:{key} must be {rule} (was {value}).");
            }
        }
        void AtLeast(double value, double minimum, string key) =>
            Check(double.IsFinite(value) && value >= minimum, key, $"a number of at least {minimum}", value);
        void Positive(double value, string key) => Check(double.IsFinite(value) && value > 0, key, "a positive number", value);
        void Duration(TimeSpan value, TimeSpan minimum, string key, bool strictly) =>
            Check(strictly ? value > minimum : value >= minimum, key, strictly ? $"longer than {minimum}" : $"at least {minimum}", value);

        AtLeast(o.ViewWeight, 0, nameof(o.ViewWeight));
        AtLeast(o.ClickWeight, 0, nameof(o.ClickWeight));
        AtLeast(o.LikeWeight, 0, nameof(o.LikeWeight));
        AtLeast(o.WishlistAddWeight, 0, nameof(o.WishlistAddWeight));
        AtLeast(o.AddToCartWeight, 0, nameof(o.AddToCartWeight));
        AtLeast(o.PurchaseWeight, 0, nameof(o.PurchaseWeight));
        AtLeast(o.RatingWeight, 0, nameof(o.RatingWeight));
        Positive(o.RatingScale, nameof(o.RatingScale));
        AtLeast(o.DecayHalfLifeDays, 0, nameof(o.DecayHalfLifeDays));
        AtLeast(o.PopularityHalfLifeDays, 0, nameof(o.PopularityHalfLifeDays));

        AtLeast(o.PopularListSize, 1, nameof(o.PopularListSize));
        AtLeast(o.PopularCategoryListSize, 1, nameof(o.PopularCategoryListSize));
        AtLeast(o.MinSegmentUsers, 1, nameof(o.MinSegmentUsers));
        Positive(o.TrendingDays, nameof(o.TrendingDays));
        AtLeast(o.TrendingHalfLifeDays, 0, nameof(o.TrendingHalfLifeDays));
        AtLeast(o.TrendingListSize, 1, nameof(o.TrendingListSize));
        AtLeast(o.TrendingWeight, 0, nameof(o.TrendingWeight));

        AtLeast(o.ItemNeighbors, 1, nameof(o.ItemNeighbors));
        AtLeast(o.ContentNeighbors, 0, nameof(o.ContentNeighbors));
        AtLeast(o.Shrinkage, 0, nameof(o.Shrinkage));
        AtLeast(o.PopularityDamping, 0, nameof(o.PopularityDamping));
        AtLeast(o.MaxHistoryPerUser, 1, nameof(o.MaxHistoryPerUser));
        AtLeast(o.MaxUsersPerItem, 1, nameof(o.MaxUsersPerItem));
        AtLeast(o.MaxContentPostingLength, 1, nameof(o.MaxContentPostingLength));
        Check(Enum.IsDefined(o.CollaborativeModel), nameof(o.CollaborativeModel), "Auto, Knn or Ease", o.CollaborativeModel);
        AtLeast(o.EaseMaxItems, 1, nameof(o.EaseMaxItems));
        Positive(o.EaseLambda, nameof(o.EaseLambda));
        AtLeast(o.EaseNeighbors, 1, nameof(o.EaseNeighbors));
        Check(o.EmbeddingFactors is >= 0 and <= 1024, nameof(o.EmbeddingFactors), "between 0 (no embedding source) and 1024", o.EmbeddingFactors);
        Check(o.EmbeddingIterations is >= 1 and <= 1000, nameof(o.EmbeddingIterations), "between 1 and 1000", o.EmbeddingIterations);
        AtLeast(o.EmbeddingCandidates, 1, nameof(o.EmbeddingCandidates));
        AtLeast(o.EmbeddingBuildBudget, 1e6, nameof(o.EmbeddingBuildBudget));

        Duration(o.TuningBudget, TimeSpan.Zero, nameof(o.TuningBudget), strictly: false);
        AtLeast(o.TuningUsers, 1, nameof(o.TuningUsers));
        AtLeast(o.TuningTrainUsers, 1, nameof(o.TuningTrainUsers));

        AtLeast(o.MaxSimilarUsers, 1, nameof(o.MaxSimilarUsers));
        AtLeast(o.UserNeighborItems, 1, nameof(o.UserNeighborItems));
        AtLeast(o.UserNeighborMinItems, 1, nameof(o.UserNeighborMinItems));
        AtLeast(o.UserNeighborHistory, 1, nameof(o.UserNeighborHistory));
        AtLeast(o.UserNeighborItemUsers, 1, nameof(o.UserNeighborItemUsers));
        AtLeast(o.ProfileTags, 0, nameof(o.ProfileTags));

        AtLeast(o.CollaborativeWeight, 0, nameof(o.CollaborativeWeight));
        AtLeast(o.ContentWeight, 0, nameof(o.ContentWeight));
        AtLeast(o.PopularityWeight, 0, nameof(o.PopularityWeight));
        AtLeast(o.EmbeddingWeight, 0, nameof(o.EmbeddingWeight));
        Check(o.CollaborativeWeight + o.ContentWeight + o.PopularityWeight > 0, nameof(o.CollaborativeWeight),
            $"such that it, {nameof(o.ContentWeight)} and {nameof(o.PopularityWeight)} are not all 0", o.CollaborativeWeight);
        Check(o.ItemKnnShare is >= 0 and <= 1, nameof(o.ItemKnnShare), "between 0 and 1", o.ItemKnnShare);
        AtLeast(o.BlendRankConstant, 0, nameof(o.BlendRankConstant));
        AtLeast(o.ContentPopularityBoost, 0, nameof(o.ContentPopularityBoost));
        AtLeast(o.RecentHistory, 1, nameof(o.RecentHistory));
        AtLeast(o.MaxResults, 1, nameof(o.MaxResults));
        Check(o.MaxCategoryShare is > 0 and <= 1, nameof(o.MaxCategoryShare), "above 0 and at most 1", o.MaxCategoryShare);
        AtLeast(o.DiversityPageSize, 1, nameof(o.DiversityPageSize));
        AtLeast(o.FreshnessDays, 0, nameof(o.FreshnessDays));
        AtLeast(o.FreshnessBoost, 0, nameof(o.FreshnessBoost));

        Duration(o.SnapshotPollInterval, TimeSpan.Zero, nameof(o.SnapshotPollInterval), strictly: true);
        Duration(o.SnapshotStartupWait, TimeSpan.Zero, nameof(o.SnapshotStartupWait), strictly: false);
        Duration(o.DatasetReuseWindow, TimeSpan.Zero, nameof(o.DatasetReuseWindow), strictly: false);
        AtLeast(o.KeepRetiredVersions, 0, nameof(o.KeepRetiredVersions));
        Duration(o.StaleBuildAfter, TimeSpan.Zero, nameof(o.StaleBuildAfter), strictly: true);
        Duration(o.JobHistoryRetention, TimeSpan.Zero, nameof(o.JobHistoryRetention), strictly: true);

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
