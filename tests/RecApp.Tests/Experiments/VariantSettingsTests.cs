using Microsoft.Extensions.Configuration;
using RecApp.Api.Experiments;
using RecApp.Engine.Domain;
using RecApp.Data.Migrations;
using RecApp.Data.Source;
using RecApp.Engine;
using RecApp.Engine.Model;
using RecApp.Engine.Training;
using RecApp.Data.Models;
using RecApp.Api.Model;
using RecApp.Refresher.Jobs;
using RecApp.Engine.Scoring;
using RecApp.Api.Recommendations;

namespace RecApp.Tests.Experiments;

/// <summary>
/// A variant changes exactly the settings it names, on top of what the control serves: the blend a build tuned stays
/// tuned except for the weights the variant sets.
/// </summary>
public sealed class VariantSettingsTests
{
    private static readonly DateTime s_now = new(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);

    private static readonly BlendWeights s_tuned = new(ItemNeighbors: 0.6f, UserNeighbors: 0.2f, Content: 0.15f, Popular: 0.05f, Embeddings: 0.7f);

    private static readonly Lazy<(Dataset Data, ModelSnapshot Snapshot)> s_model = new(() =>
    {
        var data = TestDatasets.Synthetic(600, 400, 12_000, end: s_now);
        var model = GlobalModelBuilder.Build(data, new RecommendationOptions { Tuning = { Budget = TimeSpan.Zero } }, s_now);
        var snapshot = ModelSnapshot.FromModel(data.Items, model);
        // A build that tuned the embedding source in, with a decay of its own.
        return (data, snapshot with { Tuning = snapshot.Tuning with { Blend = s_tuned, DecayHalfLifeDays = 90 } });
    });

    private static VariantRecommender Variant(IRecommender inner, Dictionary<string, string> changes)
    {
        var (settings, changed) = VariantRecommenders.SettingsFor(new ConfigurationBuilder().Build(), changes);
        return new(inner, settings, changed);
    }

    [Theory]
    [InlineData("ItemKnnShare", "Scoring:ItemKnnShare")]
    [InlineData("scoring:itemknnshare", "Scoring:ItemKnnShare")]
    [InlineData("Scoring:ItemKnnShare", "Scoring:ItemKnnShare")]
    public void A_change_names_a_request_time_setting_by_its_path_or_its_last_part(string name, string path)
    {
        var (settings, changed) = VariantRecommenders.SettingsFor(new ConfigurationBuilder().Build(), new Dictionary<string, string> { [name] = "0.25" });

        Assert.Equal([path], changed);
        Assert.Equal(0.25f, settings.Scoring.ItemKnnShare);
    }

    [Theory]
    [InlineData("ItemNeighbors", "3")] // read by the build only: a variant naming it would change nothing
    [InlineData("Tuning:Budget", "00:00:01")]
    [InlineData("NoSuchSetting", "1")]
    [InlineData("ItemKnnShare", "1.5")] // out of its range
    [InlineData("MaxResults", "many")]
    public void A_change_a_variant_cannot_make_is_refused_naming_it(string name, string value)
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            VariantRecommenders.SettingsFor(new ConfigurationBuilder().Build(), new Dictionary<string, string> { [name] = value }));

        Assert.Contains(name.Split(':')[^1], error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_variant_with_only_EmbeddingWeight_0_serves_other_lists_than_the_control()
    {
        var (data, snapshot) = s_model.Value;
        var control = new SnapshotScoring(data);
        var variant = Variant(new SnapshotScoring(data), new() { ["EmbeddingWeight"] = "0" });
        var users = data.Interactions.GroupBy(i => i.UserId).Where(g => g.Select(i => i.ItemId).Distinct().Count() >= 3)
            .Select(g => g.Key).Order().Take(40).ToArray();

        var differing = 0;
        foreach (var user in users)
        {
            var controlList = await control.ForUserAsync(snapshot, user, RecommendationFilters.None, CancellationToken.None);
            var variantList = await variant.ForUserAsync(snapshot, user, RecommendationFilters.None, CancellationToken.None);
            Assert.Equal(RecommendationAlgorithm.Collaborative, variantList.Algorithm);
            differing += controlList.ItemIds.Take(10).SequenceEqual(variantList.ItemIds.Take(10)) ? 0 : 1;
        }

        Assert.True(differing > users.Length / 2, $"only {differing} of {users.Length} users got another top 10 without the embedding source");
    }

    [Fact]
    public async Task A_variant_with_ContentWeight_keeps_every_other_tuned_weight_and_the_tuned_decay()
    {
        var (data, snapshot) = s_model.Value;
        var seen = new SnapshotScoring(data);
        await Variant(seen, new() { ["ContentWeight"] = "0.9" }).ForUserAsync(snapshot, 1, RecommendationFilters.None, CancellationToken.None);

        Assert.Equal(s_tuned with { Content = 0.9f }, seen.Last!.Tuning.Blend);
        Assert.Equal(90, seen.Last.Tuning.DecayHalfLifeDays);
    }

    [Fact]
    public async Task Collaborative_weight_and_item_share_each_keep_the_other_tuned_value()
    {
        var (data, snapshot) = s_model.Value;
        var seen = new SnapshotScoring(data);

        await Variant(seen, new() { ["CollaborativeWeight"] = "0.4" }).ForUserAsync(snapshot, 1, RecommendationFilters.None, CancellationToken.None);
        var blend = seen.Last!.Tuning.Blend!;
        Assert.Equal(0.4f, blend.ItemNeighbors + blend.UserNeighbors, 5);
        Assert.Equal(0.75f, blend.ItemNeighbors / (blend.ItemNeighbors + blend.UserNeighbors), 5); // the tuned share, 0.6 / 0.8
        Assert.Equal(s_tuned with { ItemNeighbors = blend.ItemNeighbors, UserNeighbors = blend.UserNeighbors }, blend);

        await Variant(seen, new() { ["ItemKnnShare"] = "0.5" }).ForUserAsync(snapshot, 1, RecommendationFilters.None, CancellationToken.None);
        Assert.Equal(s_tuned with { ItemNeighbors = 0.4f, UserNeighbors = 0.4f }, seen.Last!.Tuning.Blend);

        await Variant(seen, new() { ["DecayHalfLifeDays"] = "7" }).ForUserAsync(snapshot, 1, RecommendationFilters.None, CancellationToken.None);
        Assert.Equal(s_tuned, seen.Last!.Tuning.Blend);
        Assert.Null(seen.Last.Tuning.DecayHalfLifeDays); // the variant's configured 7 days apply
    }

    /// <summary>The engine over the snapshot it is handed and the dataset's histories (no database): what a variant wraps.</summary>
    private sealed class SnapshotScoring(Dataset data) : IRecommender
    {
        public ModelSnapshot? Last { get; private set; }

        public Task<RankedList> ForUserAsync(ModelSnapshot snapshot, long userId, RecommendationFilters filters, CancellationToken cancellationToken)
        {
            Last = snapshot;
            var history = data.Interactions.Where(i => i.UserId == userId)
                .Select(i => new HistoryEvent(i.ItemId, i.Type, i.Value, i.OccurredAt)).ToList();
            return Task.FromResult(new ScoringEngine(new RecommendationOptions())
                .ForUser(snapshot, userId, history, new Demographics(), filters, s_now));
        }

        public Task<RankedList> ForUserAsync(long userId, RecommendationFilters filters, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public Task<RankedList> PopularAsync(Demographics demographics, RecommendationFilters filters, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public Task<RankedList> PopularAsync(ModelSnapshot snapshot, Demographics demographics, RecommendationFilters filters, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public Task<RankedList?> SimilarAsync(long itemId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<RankedList?> SimilarAsync(ModelSnapshot snapshot, long itemId, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public Task<IReadOnlyDictionary<long, SourceContribution[]>> ExplainSourcesAsync(ModelSnapshot snapshot, long userId, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }
}
