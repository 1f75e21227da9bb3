using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Engine.Training;
using RecApp.Engine.Embeddings;

namespace RecApp.Engine.Tests.Embeddings;

/// <summary>iALS and exact embedding retrieval on small synthetic matrices (pure logic, no database).</summary>
public sealed class ImplicitAlsTests
{
    private static readonly ImplicitAlsSettings s_small = new() { Factors = 4, Regularization = 5f, RegularizationExponent = 0, Alpha = 5f, Iterations = 15, Seed = 7 };

    /// <summary>
    /// Two user groups (0–39, 40–79) each liking one item group (0–29, 30–59): every user has a seeded random 60% of
    /// the own group's items. Also returns, per user, 3 held-out own-group items removed from the matrix.
    /// </summary>
    private static (ImplicitFeedbackMatrix Matrix, int[][] HeldOut) TwoGroups(int seed = 3)
    {
        var random = new Random(seed);
        var triples = new List<(int, int, float)>();
        var heldOut = new int[80][];
        for (var u = 0; u < 80; u++)
        {
            var first = u < 40 ? 0 : 30;
            var liked = Enumerable.Range(first, 30).Where(_ => random.NextDouble() < 0.6).ToArray();
            random.Shuffle(liked);
            heldOut[u] = liked[..3];
            triples.AddRange(liked[3..].Select(i => (u, i, 1f + (float)random.NextDouble())));
        }
        return (ImplicitFeedbackMatrix.FromTriples(80, 60, triples), heldOut);
    }

    private static int[] History(ImplicitFeedbackMatrix m, int user) => m.CellItem[m.UserStart[user]..m.UserStart[user + 1]];

    [Fact]
    public void Recovers_planted_groups_held_out_own_group_items_outrank_every_other_group_item()
    {
        var (matrix, heldOut) = TwoGroups();
        var model = ImplicitAlsBuilder.Build(matrix, s_small);
        var scores = new float[60];
        for (var u = 0; u < 80; u++)
        {
            model.Items.Score(model.Users.Vector(u), scores);
            var own = u < 40 ? 0 : 30;
            var bestOther = Enumerable.Range(30 - own, 30).Max(i => scores[i]);
            Assert.All(heldOut[u], i => Assert.True(scores[i] > bestOther, $"user {u}: held-out item {i} scored {scores[i]} ≤ {bestOther}"));

            // And the top 5 after excluding the history are all own-group items.
            var top = model.Recommend(u, 5, History(matrix, u));
            Assert.Equal(5, top.Indices.Length);
            Assert.All(top.Indices, i => Assert.InRange(i, own, own + 29));
        }
    }

    [Theory]
    [InlineData(4)]  // the library (scalar-width) path
    [InlineData(16)] // the register-blocked path (a multiple of the vector width)
    public void Fold_in_equals_the_trained_row_exactly_with_the_exact_solver_and_closely_with_conjugate_gradient(int factors)
    {
        var (matrix, _) = TwoGroups();
        var exact = ImplicitAlsBuilder.Build(matrix, s_small with { Factors = factors, ConjugateGradientSteps = 0 });
        var iterative = ImplicitAlsBuilder.Build(matrix, s_small with { Factors = factors });
        for (var u = 0; u < 80; u++)
        {
            var cells = matrix.UserStart[u]..matrix.UserStart[u + 1];
            var trained = exact.Users.Vector(u).ToArray();
            var folded = exact.Items.FoldIn(matrix.CellItem[cells], matrix.CellValue[cells]);
            for (var f = 0; f < trained.Length; f++)
            {
                Assert.Equal(trained[f], folded[f], 4);
            }

            var foldedIterative = iterative.Items.FoldIn(matrix.CellItem[cells], matrix.CellValue[cells]);
            Assert.True(Cosine(iterative.Users.Vector(u), foldedIterative) > 0.999, $"user {u}");
        }
    }

    [Fact]
    public void Conjugate_gradient_with_enough_steps_reaches_the_exact_solution()
    {
        var (matrix, _) = TwoGroups();
        var settings = s_small with { Factors = 16, Iterations = 3 };
        var exact = ImplicitAlsBuilder.Build(matrix, settings with { ConjugateGradientSteps = 0 });
        var iterative = ImplicitAlsBuilder.Build(matrix, settings with { ConjugateGradientSteps = 64 });
        var users = exact.Users.Values;
        var cg = iterative.Users.Values;
        for (var i = 0; i < users.Length; i++)
        {
            Assert.Equal(users[i], cg[i], 3);
        }
    }

    [Fact]
    public void Warm_started_fold_in_refreshes_a_stored_vector_for_new_events()
    {
        var (matrix, _) = TwoGroups();
        var model = ImplicitAlsBuilder.Build(matrix, s_small with { Factors = 16 });
        const int user = 3;
        var added = Enumerable.Range(0, 30).First(i => !History(matrix, user).Contains(i)); // a new own-group item since the build
        var history = History(matrix, user).Append(added).ToArray();
        var values = Enumerable.Repeat(1f, history.Length).ToArray();
        var exact = model.Items.FoldIn(history, values);
        var refreshed = model.Items.FoldIn(history, values, model.Users.Vector(user), conjugateGradientSteps: 4);
        var converged = model.Items.FoldIn(history, values, new float[16], conjugateGradientSteps: 64);
        Assert.True(Cosine(exact, refreshed) > 0.999);
        for (var f = 0; f < 16; f++)
        {
            Assert.Equal(exact[f], converged[f], 3);
        }
        Assert.DoesNotContain(added, model.Items.Recommend(refreshed, 10, history).Indices);

        var served = model.RecommendForHistory(user, history, values, 10);
        Assert.Empty(served.Indices.Intersect(history));
        Assert.All(served.Indices, i => Assert.InRange(i, 0, 29));
        var newcomer = model.RecommendForHistory(-1, [31, 35], [1f, 1f], 5);
        Assert.All(newcomer.Indices, i => Assert.InRange(i, 30, 59));
        Assert.DoesNotContain(31, newcomer.Indices);
    }

    [Fact]
    public void Fold_in_of_a_new_history_ranks_that_history_s_group_first()
    {
        var (matrix, _) = TwoGroups();
        var model = ImplicitAlsBuilder.Build(matrix, s_small);
        var vector = model.Items.FoldIn([31, 35, 40], [1f, 1f, 1f]); // a newcomer with three items of group 2
        var top = model.Items.Recommend(vector, 10, [31, 35, 40]);
        Assert.All(top.Indices, i => Assert.InRange(i, 30, 59));
        Assert.Equal(new float[4], model.Items.FoldIn([], []));
    }

    [Fact]
    public void Same_seed_gives_bit_identical_factors_whatever_the_thread_count_and_another_seed_differs()
    {
        var (matrix, _) = TwoGroups();
        var oneThread = ImplicitAlsBuilder.Build(matrix, s_small with { MaxDegreeOfParallelism = 1 });
        var manyThreads = ImplicitAlsBuilder.Build(matrix, s_small with { MaxDegreeOfParallelism = 8 });
        Assert.True(oneThread.Users.Values.SequenceEqual(manyThreads.Users.Values));
        Assert.True(oneThread.Items.Values.SequenceEqual(manyThreads.Items.Values));

        var otherSeed = ImplicitAlsBuilder.Build(matrix, s_small with { Seed = 8 });
        Assert.False(oneThread.Items.Values.SequenceEqual(otherSeed.Items.Values));
    }

    [Fact]
    public void Determinism_holds_on_the_vector_paths_with_several_gramian_groups()
    {
        // 2,000 users (8 Gramian groups) × 300 items, k = 16 (the register-blocked kernels).
        var random = new Random(11);
        var triples = Enumerable.Range(0, 2000).SelectMany(u => Enumerable.Range(0, 12).Select(_ => (u, random.Next(300), 1f)))
            .DistinctBy(t => (t.u, t.Item2)).ToArray();
        var matrix = ImplicitFeedbackMatrix.FromTriples(2000, 300, triples);
        var settings = s_small with { Factors = 16, Iterations = 4 };
        var one = ImplicitAlsBuilder.Build(matrix, settings with { MaxDegreeOfParallelism = 1 });
        var many = ImplicitAlsBuilder.Build(matrix, settings with { MaxDegreeOfParallelism = 6 });
        Assert.True(one.Users.Values.SequenceEqual(many.Users.Values));
        Assert.True(one.Items.Values.SequenceEqual(many.Items.Values));
    }

    [Fact]
    public void A_cancelled_build_stops()
    {
        var (matrix, _) = TwoGroups();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => ImplicitAlsBuilder.Build(matrix, s_small, cancelled.Token));
    }

    [Fact]
    public void Top_k_equals_a_naive_sort_and_exclusions_are_never_returned()
    {
        var (matrix, _) = TwoGroups();
        var model = ImplicitAlsBuilder.Build(matrix, s_small);
        var scores = new float[60];
        for (var u = 0; u < 80; u += 7)
        {
            var exclude = History(matrix, u);
            model.Items.Score(model.Users.Vector(u), scores);
            var naive = Enumerable.Range(0, 60).Where(i => !exclude.Contains(i))
                .OrderByDescending(i => scores[i]).ThenBy(i => i).Take(10).ToArray();
            var top = model.Recommend(u, 10, exclude);
            Assert.Equal(naive, top.Indices);
            Assert.Equal(naive.Select(i => scores[i]), top.Scores);
            Assert.Empty(top.Indices.Intersect(exclude));

            var unfiltered = model.Recommend(u, 60, []);
            Assert.Equal(60, unfiltered.Indices.Length);
            Assert.Equal(unfiltered.Indices.Where(i => !exclude.Contains(i)).Take(10), top.Indices);
        }
    }

    [Fact]
    public void Similar_items_are_the_naive_cosine_order_never_the_item_itself()
    {
        var (matrix, _) = TwoGroups();
        var model = ImplicitAlsBuilder.Build(matrix, s_small);
        for (var item = 0; item < 60; item += 11)
        {
            var a = model.Items.Vector(item).ToArray();
            var cosine = Enumerable.Range(0, 60).Select(j => Cosine(a, model.Items.Vector(j))).ToArray();
            var similar = model.Items.Similar(item, 5, [5]);
            Assert.Equal(5, similar.Indices.Length);
            // Items of one planted group are nearly collinear, so compare scores with a tolerance, not the order of
            // near-ties: every score is the item's cosine, best first, and nothing left out scores higher.
            for (var r = 0; r < 5; r++)
            {
                Assert.Equal(cosine[similar.Indices[r]], similar.Scores[r], 4);
                Assert.True(r == 0 || similar.Scores[r] <= similar.Scores[r - 1]);
            }
            var outside = Enumerable.Range(0, 60).Where(j => j != item && j != 5 && !similar.Indices.Contains(j));
            Assert.All(outside, j => Assert.True(cosine[j] <= similar.Scores[^1] + 1e-4, $"item {j} cosine {cosine[j]} > {similar.Scores[^1]}"));
            Assert.DoesNotContain(5, similar.Indices);
            Assert.DoesNotContain(item, similar.Indices);
            Assert.All(similar.Indices, j => Assert.Equal(item < 30, j < 30)); // neighbors from the same planted group
        }
    }

    [Fact]
    public void Items_without_cells_or_marked_ineligible_are_never_returned_and_empty_users_get_zero_vectors()
    {
        // Items 0..3; item 3 never seen, item 2 seen but not a candidate; user 2 has no cells.
        var matrix = new ImplicitFeedbackMatrix(4, [0, 2, 4, 4], [0, 1, 1, 2], [1, 1, 1, 1], [true, true, false, true]);
        var model = ImplicitAlsBuilder.Build(matrix, s_small with { Factors = 2 });
        Assert.Equal([0, 1], model.Recommend(0, 10, []).Indices.Order());
        Assert.False(model.Items.IsCandidate(2));
        Assert.False(model.Items.IsCandidate(3));
        Assert.Equal([0f, 0f], model.Users.Vector(2).ToArray());
    }

    [Fact]
    public void Empty_matrices_build_and_recommend_nothing()
    {
        var noUsers = ImplicitAlsBuilder.Build(ImplicitFeedbackMatrix.FromTriples(0, 3, []), s_small);
        Assert.Equal(0, noUsers.Users.Count);
        Assert.Empty(noUsers.Items.Recommend(new float[4], 5, []).Indices);
        var noItems = ImplicitAlsBuilder.Build(ImplicitFeedbackMatrix.FromTriples(2, 0, []), s_small);
        Assert.Empty(noItems.Recommend(1, 5, []).Indices);
    }

    [Fact]
    public void Settings_out_of_range_are_rejected_by_name()
    {
        var (matrix, _) = TwoGroups();
        Assert.Equal("Factors", Assert.Throws<ArgumentOutOfRangeException>(() => ImplicitAlsBuilder.Build(matrix, s_small with { Factors = 0 })).ParamName);
        Assert.Equal("Alpha", Assert.Throws<ArgumentOutOfRangeException>(() => ImplicitAlsBuilder.Build(matrix, s_small with { Alpha = -1 })).ParamName);
        Assert.Equal("Iterations", Assert.Throws<ArgumentOutOfRangeException>(() => ImplicitAlsBuilder.Build(matrix, s_small with { Iterations = 0 })).ParamName);
        Assert.Throws<ArgumentException>(() => new ImplicitFeedbackMatrix(3, [0, 2], [0], [1f]));
        Assert.Equal("cellItem", Assert.Throws<ArgumentException>(() => new ImplicitFeedbackMatrix(3, [0, 1], [3], [1f])).ParamName);
        Assert.Equal("userStart", Assert.Throws<ArgumentException>(() => new ImplicitFeedbackMatrix(3, [0, 2, 1, 2], [0, 1], [1f, 1f])).ParamName);
    }

    [Fact]
    public void Builds_from_the_engine_interaction_matrix_with_its_indices_and_active_flags()
    {
        var now = new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);
        CatalogItem Item(long id, bool active = true) => new(id, $"item {id}", "c", [], 1, null, active, now.AddDays(-10));
        Interaction Buy(long user, long item) => new(user, item, InteractionType.Purchase, null, now.AddDays(-1));
        var dataset = new Dataset(
            [Item(10), Item(20), Item(30, active: false), Item(40)],
            [],
            [Buy(1, 10), Buy(1, 20), Buy(2, 10), Buy(2, 30), Buy(3, 20), Buy(3, 40), Buy(3, 40)]);
        var engine = InteractionMatrix.Build(dataset, new RecommendationOptions(), now);
        var input = engine.ToImplicitFeedback();
        Assert.Equal(engine.UserCount, input.UserCount);
        Assert.Equal(engine.ItemCount, input.ItemCount);
        Assert.Same(engine.CellItem, input.CellItem);

        var model = ImplicitAlsBuilder.Build(input, s_small with { Factors = 4 });
        var user2 = engine.UserIndex[2];
        var list = model.Recommend(user2, 10, History(input, user2)).ToScoredIds(engine.ItemIds);
        Assert.DoesNotContain(30L, list.Ids); // inactive
        Assert.DoesNotContain(10L, list.Ids); // already had it
        Assert.Equal([20L, 40L], list.Ids.Order());
    }

    [Theory]
    [InlineData(3, 5)]      // scalar path (k not a multiple of the vector width)
    [InlineData(1000, 64)]  // several Gramian groups, register-blocked product
    [InlineData(300, 40)]   // blocked product plus a remainder
    public void Gramian_and_its_product_equal_the_naive_sums(int rows, int k)
    {
        var random = new Random(rows);
        var factors = Enumerable.Range(0, rows * k).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var gram = ImplicitAlsSolver.Gramian(factors, rows, k, parallelism: 3);
        var v = Enumerable.Range(0, k).Select(_ => (float)random.NextDouble()).ToArray();
        var product = new float[k];
        ImplicitAlsSolver.MultiplyGram(gram, v, product);
        for (var a = 0; a < k; a++)
        {
            var expected = 0.0;
            for (var b = 0; b < k; b++)
            {
                var entry = 0.0;
                for (var r = 0; r < rows; r++)
                {
                    entry += (double)factors[r * k + a] * factors[r * k + b];
                }
                Assert.Equal(entry, gram[a * k + b], 0.01 + Math.Abs(entry) * 1e-4);
                expected += entry * v[b];
            }
            Assert.Equal(expected, product[a], 0.01 + Math.Abs(expected) * 1e-4);
        }
    }

    private static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.Sqrt(na * nb);
    }
}
