using RecApp.Engine;
using RecApp.Engine.Embeddings;

namespace RecApp.Engine.Tests;

/// <summary>
/// The embedding top K keys only the items above a bound taken from a sample of the scores; whatever the sample shows,
/// the answer is the naive sort's (score descending, index ascending), with exclusions and non-candidates left out.
/// </summary>
public sealed class ExactTopKTests
{
    private const int Factors = 8;

    private static ItemEmbeddings Embeddings(float[] vectors, bool[] candidate) =>
        new(vectors, candidate.Length, Factors, new float[Factors * Factors], candidate,
            new ImplicitAlsSettings { Factors = Factors });

    private static int[] Naive(float[] vectors, bool[] candidate, float[] query, int k, IReadOnlySet<int> exclude) =>
        [.. Enumerable.Range(0, candidate.Length)
            .Where(i => candidate[i] && !exclude.Contains(i))
            .Select(i => (Index: i, Score: Dot(vectors, i, query)))
            .OrderByDescending(p => p.Score).ThenBy(p => p.Index)
            .Take(k).Select(p => p.Index)];

    private static float Dot(float[] vectors, int item, float[] query) =>
        System.Numerics.Tensors.TensorPrimitives.Dot(vectors.AsSpan(item * Factors, Factors), query);

    [Theory]
    [InlineData(1, 5000, 50)]
    [InlineData(2, 20000, 450)]
    [InlineData(3, 3000, 400)] // fewer than eight items per wanted one: every item keyed
    [InlineData(4, 4000, 1)]
    public void Random_vectors_give_the_naive_top_k(int seed, int items, int k)
    {
        var random = new Random(seed);
        var vectors = new float[items * Factors];
        for (var i = 0; i < vectors.Length; i++)
        {
            // Coarse values: equal vectors (and so equal scores, ordered by index) occur among this many items.
            vectors[i] = random.Next(-2, 3) / 2f;
        }
        var candidate = Enumerable.Range(0, items).Select(_ => random.Next(10) != 0).ToArray();
        for (var round = 0; round < 5; round++)
        {
            var query = Enumerable.Range(0, Factors).Select(_ => (float)random.NextDouble() - 0.3f).ToArray();
            var exclude = Enumerable.Range(0, 30).Select(_ => random.Next(items)).ToHashSet();

            var top = Embeddings(vectors, candidate).Recommend(query, k, [.. exclude.Order()]);

            Assert.Equal(Naive(vectors, candidate, query, k, exclude), top.Indices);
            Assert.Equal(top.Indices.Select(i => Dot(vectors, i, query)), top.Scores);
        }
    }

    [Fact]
    public void A_sample_that_holds_only_the_best_items_still_gives_the_naive_top_k()
    {
        // Every item the evenly strided sample reads scores highest, so the bound sits above the k-th best: the top K
        // must come from keying every item.
        const int items = 8192, k = 200;
        var stride = items / 1024;
        var vectors = new float[items * Factors];
        for (var i = 0; i < items; i++)
        {
            vectors[i * Factors] = i % stride == 0 ? 10f + i % 7 : 1f + i % 5;
        }
        var candidate = Enumerable.Repeat(true, items).ToArray();
        var query = new float[Factors];
        query[0] = 1f;

        var top = Embeddings(vectors, candidate).Recommend(query, k, []);

        Assert.Equal(Naive(vectors, candidate, query, k, new HashSet<int>()), top.Indices);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public void Estimated_scores_lie_within_the_slack_of_the_exact_ones(int seed)
    {
        const int factors = 64, items = 3001; // not a multiple of the kernel's four rows
        var random = new Random(seed);
        var vectors = Enumerable.Range(0, items * factors).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        var embeddings = new ItemEmbeddings(vectors, items, factors, new float[factors * factors], Enumerable.Repeat(true, items).ToArray(),
            new ImplicitAlsSettings { Factors = factors });
        var query = Enumerable.Range(0, factors).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var estimates = new float[items];
        Assert.SkipUnless(System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated, "the estimate kernel needs 256-bit vectors; the exact path answers here");

        Assert.True(embeddings.EstimateAll(vectors, query, estimates));
        var slack = embeddings.EstimateSlack(vectors, query);
        var exact = Enumerable.Range(0, items)
            .Select(i => System.Numerics.Tensors.TensorPrimitives.Dot(vectors.AsSpan(i * factors, factors), query)).ToArray();
        Assert.All(Enumerable.Range(0, items), i => Assert.InRange(estimates[i], exact[i] - slack, exact[i] + slack));
        Assert.True(slack < 1e-3f, $"a slack of {slack} would rescore most items");
    }

    [Theory]
    [InlineData(21, 450)]
    [InlineData(22, 50)]
    public void Near_ties_at_64_factors_give_the_naive_top_k_and_its_exact_scores(int seed, int k)
    {
        // Groups of items whose scores differ only in their last bits: a top K from the estimates alone would order them
        // by another rounding; the answer must be the exact scores' order.
        const int factors = 64, items = 16_000;
        var random = new Random(seed);
        var bases = Enumerable.Range(0, 40).Select(_ => Enumerable.Range(0, factors).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
        var vectors = new float[items * factors];
        for (var i = 0; i < items; i++)
        {
            var basis = bases[random.Next(bases.Length)];
            for (var f = 0; f < factors; f++)
            {
                vectors[i * factors + f] = basis[f] * (1f + (random.Next(-3, 4) * 1e-7f));
            }
        }
        var candidate = Enumerable.Range(0, items).Select(_ => random.Next(20) != 0).ToArray();
        var embeddings = new ItemEmbeddings(vectors, items, factors, new float[factors * factors], candidate, new ImplicitAlsSettings { Factors = factors });
        for (var round = 0; round < 5; round++)
        {
            var query = Enumerable.Range(0, factors).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            var exclude = Enumerable.Range(0, 30).Select(_ => random.Next(items)).ToHashSet();

            var top = embeddings.Recommend(query, k, [.. exclude.Order()]);

            float Exact(int i) => System.Numerics.Tensors.TensorPrimitives.Dot(vectors.AsSpan(i * factors, factors), query);
            var naive = Enumerable.Range(0, items).Where(i => candidate[i] && !exclude.Contains(i))
                .OrderByDescending(Exact).ThenBy(i => i).Take(k).ToArray();
            Assert.Equal(naive, top.Indices);
            Assert.Equal(top.Indices.Select(Exact), top.Scores);
        }
    }

    [Fact]
    public void Similar_items_by_cosine_give_the_naive_top_k_at_64_factors()
    {
        const int factors = 64, items = 12_000, k = 300;
        var random = new Random(31);
        var bases = Enumerable.Range(0, 30).Select(_ => Enumerable.Range(0, factors).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
        var vectors = new float[items * factors];
        for (var i = 0; i < items; i++)
        {
            var basis = bases[random.Next(bases.Length)];
            var length = 0.5f + (float)random.NextDouble() * 3;
            for (var f = 0; f < factors; f++)
            {
                vectors[i * factors + f] = basis[f] * length * (1f + (random.Next(-3, 4) * 1e-7f));
            }
        }
        var candidate = Enumerable.Repeat(true, items).ToArray();
        var embeddings = new ItemEmbeddings(vectors, items, factors, new float[factors * factors], candidate, new ImplicitAlsSettings { Factors = factors });
        var units = new float[vectors.Length];
        for (var i = 0; i < items; i++)
        {
            var v = vectors.AsSpan(i * factors, factors);
            System.Numerics.Tensors.TensorPrimitives.Divide(v, System.Numerics.Tensors.TensorPrimitives.Norm(v), units.AsSpan(i * factors, factors));
        }
        const int item = 77;
        float Cosine(int i) => System.Numerics.Tensors.TensorPrimitives.Dot(units.AsSpan(i * factors, factors), units.AsSpan(item * factors, factors));

        var top = embeddings.Similar(item, k, []);

        var naive = Enumerable.Range(0, items).Where(i => i != item).OrderByDescending(Cosine).ThenBy(i => i).Take(k).ToArray();
        Assert.Equal(naive, top.Indices);
        Assert.Equal(top.Indices.Select(Cosine), top.Scores);
    }

    [Fact]
    public void Fewer_candidates_than_wanted_returns_them_all()
    {
        const int items = 4096;
        var vectors = Enumerable.Range(0, items * Factors).Select(i => (i % 13) / 13f).ToArray();
        var candidate = Enumerable.Range(0, items).Select(i => i % 100 == 0).ToArray();
        var query = Enumerable.Repeat(1f, Factors).ToArray();

        var top = Embeddings(vectors, candidate).Recommend(query, 100, []);

        Assert.Equal(Naive(vectors, candidate, query, 100, new HashSet<int>()), top.Indices);
        Assert.Equal(41, top.Indices.Length);
    }

    [Fact]
    public void A_nan_score_on_the_sampled_path_gives_the_heap_order_as_before()
    {
        const int items = 5000, k = 40;
        var random = new Random(9);
        var vectors = Enumerable.Range(0, items * Factors).Select(_ => (float)random.NextDouble()).ToArray();
        vectors[1234 * Factors] = float.NaN;
        var candidate = Enumerable.Repeat(true, items).ToArray();
        var query = Enumerable.Repeat(1f, Factors).ToArray();

        var top = Embeddings(vectors, candidate).Recommend(query, k, []);

        // As before the bound: any NaN among the scores sends the whole top K to the heap, in the heap's order.
        var heap = new TopK(k);
        for (var i = 0; i < items; i++)
        {
            heap.Add(i, Dot(vectors, i, query));
        }
        Assert.Equal(heap.ToSorted().Indices, top.Indices);
    }
}
