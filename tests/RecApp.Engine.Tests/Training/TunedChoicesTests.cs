using RecApp.Engine.Datasets;
using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Engine.Training;

namespace RecApp.Engine.Tests;

/// <summary>A build that keeps an earlier search's choices (<see cref="TuningOptions.KeepFor"/>).</summary>
public sealed class TunedChoicesTests
{
    [Fact]
    public void A_build_keeping_the_search_choices_fits_the_same_parts_without_searching()
    {
        var (data, options, asOf, searched) = SearchedBuild();
        Assert.True(searched.Tuning.SettingsTried > 1, "the search ran");
        Assert.NotEqual(BlendWeights.From(options), searched.Tuning.Blend); // it chose something of its own to keep

        var kept = GlobalModelBuilder.BuildSimilarities(data, options, asOf, searched.Choices);

        Assert.Equal(searched.Tuning, kept.Tuning);
        Assert.Equal(Flatten(searched.ItemNeighbors.Collaborative), Flatten(kept.ItemNeighbors.Collaborative));
        Assert.Equal(Flatten(searched.ItemNeighbors.Content), Flatten(kept.ItemNeighbors.Content));
        Assert.Equal(UserItems(searched.UserNeighbors), UserItems(kept.UserNeighbors));
        Assert.Equal(searched.Embeddings.ItemIds, kept.Embeddings.ItemIds);
        Assert.Equal(searched.Embeddings.Vectors!.Values.ToArray(), kept.Embeddings.Vectors!.Values.ToArray());
    }

    [Fact]
    public void A_kept_record_names_the_search_build_and_takes_the_new_data_clock()
    {
        var (data, options, asOf, searched) = SearchedBuild();
        Assert.Equal(asOf, searched.Tuning.TunedDataClock);

        var later = GlobalModelBuilder.BuildSimilarities(data, options, asOf.AddHours(1), searched.Choices);

        Assert.Equal(asOf.AddHours(1), later.Tuning.DataClock);
        Assert.Equal(asOf, later.Tuning.TunedDataClock);
        Assert.Equal(searched.Tuning with { DataClock = asOf.AddHours(1) }, later.Tuning);
    }

    [Theory]
    [InlineData(0, 1000, true)]
    [InlineData(23.9, 1100, true)]   // at the growth limit, inside the time
    [InlineData(23.9, 900, true)]    // shrinking counts alike
    [InlineData(24, 1000, false)]    // KeepFor has passed
    [InlineData(1, 1101, false)]     // grew by more than RetuneAfterGrowth
    [InlineData(1, 899, false)]
    [InlineData(-1, 1000, false)]    // a clock that went back: search again
    public void Choices_are_kept_within_KeepFor_and_the_growth_limit(double hours, int interactions, bool fits)
    {
        var choices = new TunedChoices(new ModelTuning(), EaseTooLarge: false, Interactions: 1000);
        var options = new TuningOptions { KeepFor = TimeSpan.FromHours(24), RetuneAfterGrowth = 0.1 };
        Assert.Equal(fits, choices.Fits(interactions, TimeSpan.FromHours(hours), options));
    }

    [Fact]
    public void KeepFor_zero_searches_on_every_build()
    {
        var choices = new TunedChoices(new ModelTuning(), EaseTooLarge: false, Interactions: 1000);
        Assert.False(choices.Fits(1000, TimeSpan.Zero, new TuningOptions { KeepFor = TimeSpan.Zero }));
    }

    /// <summary>A searching build of a small synthetic data set with the default options, at the data's clock.</summary>
    private static (Dataset Data, RecommendationOptions Options, DateTime AsOf, SimilarityParts Searched) SearchedBuild()
    {
        var data = SyntheticDatasetGenerator.Generate(new SyntheticDatasetOptions(SyntheticDatasetSize.Tiny, Seed: 5));
        var options = new RecommendationOptions();
        var asOf = GlobalModelBuilder.DataClock(data);
        return (data, options, asOf, GlobalModelBuilder.BuildSimilarities(data, options, asOf));
    }

    private static List<(long User, long Item, float Score)> UserItems(UserNeighborModel model) =>
        [.. model.UserIds.Order().SelectMany(u => model.Items(u).Ids.Zip(model.Items(u).Scores, (id, score) => (u, id, score)))];

    private static List<(long Item, long Neighbor, float Score)> Flatten(IReadOnlyDictionary<long, ScoredIds> lists) =>
        [.. lists.OrderBy(l => l.Key).SelectMany(l => l.Value.Ids.ToArray().Zip(l.Value.Scores.ToArray(), (id, score) => (l.Key, id, score)))];
}
