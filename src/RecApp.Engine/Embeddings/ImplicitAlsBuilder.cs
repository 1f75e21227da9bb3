namespace RecApp.Engine.Embeddings;

/// <summary>
/// Implicit-feedback matrix factorisation (iALS; Hu, Koren, Volinsky 2008): every (user, item) pair is a preference
/// 1 (observed) or 0 (unobserved) with confidence <c>1 + α·value</c> or 1, fitted by alternating least squares.
/// Unlike EASE it never forms an item × item matrix: memory is (users + items) × k floats and a half-step costs
/// O(rows·k² + cells·k) with conjugate gradient, so it scales to catalogs far past EASE's limit.
/// Each iteration solves items against the users, then users against the items, so the stored user vectors are the
/// solutions against the final item vectors (what <see cref="ItemEmbeddings.FoldIn(ReadOnlySpan{int}, ReadOnlySpan{float})"/> computes for a new history).
/// </summary>
public static class ImplicitAlsBuilder
{
    /// <param name="start">
    /// Vectors to start from instead of the seeded random ones (a previous fit's, for the rows it knew), and the sweeps to
    /// run from there; null = a cold start with <see cref="ImplicitAlsSettings.Iterations"/> sweeps.
    /// </param>
    public static ImplicitAlsModel Build(
        ImplicitFeedbackMatrix matrix, ImplicitAlsSettings settings, CancellationToken cancellationToken = default, ImplicitAlsStart? start = null)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var k = settings.Factors;
        var users = new float[checked(matrix.UserCount * k)];
        var items = new float[checked(matrix.ItemCount * k)];
        Initialize(users, items, settings);
        var iterations = settings.Iterations;
        if (start is not null)
        {
            start.CopyTo(users, items, k);
            iterations = start.Iterations;
        }
        var (itemStart, cellUser, itemCellValue) = matrix.Transpose();

        float[] itemGram = [];
        for (var iteration = 0; iteration < iterations; iteration++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var userGram = ImplicitAlsSolver.Gramian(users, matrix.UserCount, k, settings.MaxDegreeOfParallelism);
            ImplicitAlsSolver.SolveRows(items, itemStart, cellUser, itemCellValue, users, userGram, settings);
            cancellationToken.ThrowIfCancellationRequested();
            itemGram = ImplicitAlsSolver.Gramian(items, matrix.ItemCount, k, settings.MaxDegreeOfParallelism);
            ImplicitAlsSolver.SolveRows(users, matrix.UserStart, matrix.CellItem, matrix.CellValue, items, itemGram, settings);
        }

        var candidate = new bool[matrix.ItemCount];
        for (var i = 0; i < candidate.Length; i++)
        {
            candidate[i] = itemStart[i + 1] > itemStart[i] && matrix.ItemCandidate?[i] != false;
        }
        return new ImplicitAlsModel(
            new UserEmbeddings(users, matrix.UserCount, k),
            new ItemEmbeddings(items, matrix.ItemCount, k, itemGram, candidate, settings),
            settings);
    }

    /// <summary>Seeded Gaussian start, drawn sequentially (never per thread) so the seed alone fixes it.</summary>
    private static void Initialize(float[] users, float[] items, ImplicitAlsSettings settings)
    {
        var random = new Random(settings.Seed);
        var scale = settings.InitialScale / MathF.Sqrt(settings.Factors);
        foreach (var factors in new[] { users, items })
        {
            for (var i = 0; i < factors.Length; i++)
            {
                // Box–Muller; 1 − U keeps the logarithm's argument in (0, 1].
                var radius = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble()));
                factors[i] = (float)(radius * Math.Cos(2 * Math.PI * random.NextDouble())) * scale;
            }
        }
    }
}

/// <summary>
/// Where a fit starts: for each user and item row, the vector a previous fit found for the same user or item (rows it did
/// not know keep their seeded random start), then <see cref="Iterations"/> sweeps. Alternating least squares only
/// improves the objective from any start, so a start near the optimum needs few sweeps to reach it again.
/// </summary>
/// <param name="UserVectors">For each user row, the offset of its vector in <paramref name="Users"/>, or −1.</param>
/// <param name="ItemVectors">For each item row, the offset of its vector in <paramref name="Items"/>, or −1.</param>
public sealed record ImplicitAlsStart(float[] Users, int[] UserVectors, float[] Items, int[] ItemVectors, int Iterations)
{
    internal void CopyTo(float[] users, float[] items, int k)
    {
        if (UserVectors.Length * k != users.Length || ItemVectors.Length * k != items.Length)
        {
            throw new ArgumentException("A start needs one entry per user and item row of the matrix.");
        }
        if (Iterations < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Iterations), "A start needs at least one sweep.");
        }
        Copy(Users, UserVectors, users, k);
        Copy(Items, ItemVectors, items, k);
    }

    private static void Copy(float[] from, int[] offsets, float[] to, int k)
    {
        for (var row = 0; row < offsets.Length; row++)
        {
            if (offsets[row] >= 0)
            {
                from.AsSpan(offsets[row], k).CopyTo(to.AsSpan(row * k, k));
            }
        }
    }
}

/// <summary>A fitted iALS model: user and item vectors in the same k-dimensional space (score = dot product).</summary>
public sealed record ImplicitAlsModel(UserEmbeddings Users, ItemEmbeddings Items, ImplicitAlsSettings Settings)
{
    /// <summary>Top <paramref name="k"/> items for a trained user, minus <paramref name="exclude"/> (e.g. the user's history).</summary>
    public ScoredIndices Recommend(int user, int k, ReadOnlySpan<int> exclude) => Items.Recommend(Users.Vector(user), k, exclude);

    /// <summary>
    /// Top <paramref name="k"/> items for a user's whole current history (distinct item indices and their values,
    /// events since the build included), the history excluded. A trained user (<paramref name="user"/> ≥ 0) is
    /// refreshed from the stored vector by a few CG steps; anyone else (−1) is folded in exactly.
    /// </summary>
    public ScoredIndices RecommendForHistory(int user, ReadOnlySpan<int> items, ReadOnlySpan<float> values, int k)
    {
        var vector = user >= 0
            ? Items.FoldIn(items, values, Users.Vector(user), Math.Max(3, Settings.ConjugateGradientSteps))
            : Items.FoldIn(items, values);
        return Items.Recommend(vector, k, items);
    }
}
