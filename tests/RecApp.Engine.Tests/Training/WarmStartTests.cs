using RecApp.Engine.Datasets;
using RecApp.Engine.Domain;
using RecApp.Engine.Training;

namespace RecApp.Engine.Tests;

/// <summary>A build keeping the search's choices starts its embedding fit from the last build's vectors (<see cref="EmbeddingOptions.WarmIterations"/>).</summary>
public sealed class WarmStartTests
{
    private static readonly Dataset s_data = SyntheticDatasetGenerator.Generate(new SyntheticDatasetOptions(SyntheticDatasetSize.Tiny, Seed: 5));
    private static readonly DateTime s_asOf = GlobalModelBuilder.DataClock(s_data);

    [Fact]
    public void A_warm_build_stays_at_the_fit_it_started_from_where_as_many_cold_sweeps_do_not()
    {
        var options = new RecommendationOptions();
        var searched = GlobalModelBuilder.BuildSimilarities(s_data, options, s_asOf);
        Assert.NotNull(searched.Factors); // 5 warm sweeps are fewer than the fit's 15: the vectors are kept

        var warm = GlobalModelBuilder.BuildSimilarities(s_data, options, s_asOf, searched.Choices, searched.Factors);
        var coldFew = GlobalModelBuilder.BuildSimilarities(
            s_data, Options(iterations: options.Embeddings.WarmIterations), s_asOf, searched.Choices, searched.Factors);

        Assert.True(warm.Tuning.EmbeddingsWarmStarted);
        Assert.False(coldFew.Tuning.EmbeddingsWarmStarted); // as many sweeps as the warm ones: nothing saved, so a cold start
        Assert.Equal(searched.Embeddings.ItemIds, warm.Embeddings.ItemIds);
        var fitted = searched.Embeddings.Vectors!.Values.ToArray();
        var warmGap = Distance(fitted, warm.Embeddings.Vectors!.Values.ToArray());
        var coldGap = Distance(fitted, coldFew.Embeddings.Vectors!.Values.ToArray());
        Assert.True(warmGap < coldGap / 5, $"warm {warmGap:0.####} against cold {coldGap:0.####} from the 15-sweep fit");
    }

    [Theory]
    [InlineData(15)] // as many as the fit's sweeps
    [InlineData(20)]
    public void No_vectors_are_kept_where_a_warm_start_would_save_no_sweep(int warmIterations)
    {
        var searched = GlobalModelBuilder.BuildSimilarities(s_data, Options(warmIterations: warmIterations), s_asOf);

        Assert.Equal(15, searched.Embeddings.Vectors!.Settings.Iterations);
        Assert.Null(searched.Factors);
    }

    [Fact]
    public void A_search_starts_cold_even_with_vectors_to_start_from()
    {
        var options = new RecommendationOptions();
        var first = GlobalModelBuilder.BuildSimilarities(s_data, options, s_asOf);
        var again = GlobalModelBuilder.BuildSimilarities(s_data, options, s_asOf, kept: null, previous: first.Factors);

        Assert.False(again.Tuning.EmbeddingsWarmStarted); // a search may choose another decay: the old vectors fit other weights
        Assert.Equal(first.Embeddings.Vectors!.Values.ToArray(), again.Embeddings.Vectors!.Values.ToArray());
    }

    [Fact]
    public void WarmIterations_zero_keeps_no_vectors_and_every_build_starts_cold()
    {
        var options = Options(warmIterations: 0);
        var searched = GlobalModelBuilder.BuildSimilarities(s_data, options, s_asOf);
        var warmable = GlobalModelBuilder.BuildSimilarities(s_data, new RecommendationOptions(), s_asOf).Factors;

        var kept = GlobalModelBuilder.BuildSimilarities(s_data, options, s_asOf, searched.Choices, warmable);

        Assert.Null(searched.Factors);
        Assert.False(kept.Tuning.EmbeddingsWarmStarted);
        Assert.Equal(searched.Embeddings.Vectors!.Values.ToArray(), kept.Embeddings.Vectors!.Values.ToArray());
    }

    [Fact]
    public void Each_row_starts_from_the_vector_of_the_same_user_or_item_and_new_ones_start_at_random()
    {
        var options = new RecommendationOptions();
        var before = InteractionMatrix.Build(s_data, options, s_asOf);
        var factors = GlobalModelBuilder.BuildSimilarities(s_data, options, s_asOf).Factors!;
        // A new user and a new item with the smallest ids, so every known row moves.
        var newUser = s_data.Users.Min(u => u.Id) - 1;
        var newItem = s_data.Items.Min(i => i.Id) - 1;
        var grown = new Dataset(
            [s_data.Items[0] with { Id = newItem }, .. s_data.Items],
            [new UserDemographics(newUser, null, null, null), .. s_data.Users],
            [new Interaction(newUser, newItem, InteractionType.Purchase, null, s_asOf), .. s_data.Interactions]);
        var after = InteractionMatrix.Build(grown, options, s_asOf);
        var settings = ItemEmbeddingBuilder.Settings(after, options);

        var start = factors.StartFor(after, settings, iterations: 5)!;

        Assert.Equal(5, start.Iterations);
        AssertRows(before.UserIds, after.UserIds, start.UserVectors, factors.Factors, newUser);
        AssertRows(before.ItemIds, after.ItemIds, start.ItemVectors, factors.Factors, newItem);
    }

    private static void AssertRows(long[] beforeIds, long[] afterIds, int[] offsets, int k, long newId)
    {
        var beforeRow = beforeIds.Select((id, row) => (id, row)).ToDictionary(p => p.id, p => p.row);
        Assert.NotEqual(beforeIds, afterIds.Take(beforeIds.Length)); // the rows moved: only a mapping by id gets them right
        for (var row = 0; row < afterIds.Length; row++)
        {
            var expected = beforeRow.TryGetValue(afterIds[row], out var r) ? r * k : -1;
            Assert.Equal(expected, offsets[row]);
        }
        Assert.Equal(-1, offsets[Array.IndexOf(afterIds, newId)]);
    }

    private static RecommendationOptions Options(int? iterations = null, int? warmIterations = null)
    {
        var options = new RecommendationOptions();
        options.Embeddings.Iterations = iterations ?? options.Embeddings.Iterations;
        options.Embeddings.WarmIterations = warmIterations ?? options.Embeddings.WarmIterations;
        return options;
    }

    private static double Distance(float[] a, float[] b)
    {
        double sum = 0, norm = 0;
        for (var i = 0; i < a.Length; i++)
        {
            sum += (double)(a[i] - b[i]) * (a[i] - b[i]);
            norm += (double)a[i] * a[i];
        }
        return Math.Sqrt(sum / norm);
    }
}
