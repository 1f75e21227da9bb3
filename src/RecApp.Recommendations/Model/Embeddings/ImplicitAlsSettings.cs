namespace RecApp.Recommendations.Model.Embeddings;

/// <summary>
/// Settings of <see cref="ImplicitAlsBuilder"/>. The defaults are one set tuned on MovieLens latest-small and Last.fm 2K
/// (see docs in /work/notes/ials-ready.md and the dataset tests); no per-dataset knobs.
/// </summary>
public sealed record ImplicitAlsSettings
{
    /// <summary>Embedding dimension k. Costs O(k²) per row and k floats per user and item.</summary>
    public int Factors { get; init; } = 64;

    /// <summary>λ of the L2 penalty on every user and item vector.</summary>
    public float Regularization { get; init; } = 30f;

    /// <summary>
    /// ν: a row with n cells is regularized by <c>λ·(1 + n)^ν</c> (0 = plain λ as in Hu et al.; Rendle et al. 2021 find
    /// frequency-scaled regularization helps), so heavy users and popular items are not under-regularized.
    /// </summary>
    public float RegularizationExponent { get; init; }

    /// <summary>α: an observed cell with value r has confidence <c>1 + α·r</c>; unobserved cells have confidence 1, preference 0.</summary>
    public float Alpha { get; init; } = 5f;

    /// <summary>Alternations (one item half-step then one user half-step each).</summary>
    public int Iterations { get; init; } = 10;

    /// <summary>Conjugate-gradient steps per row and half-step, warm-started from the row's previous value; 0 = exact Cholesky solve (O(k³) per row).</summary>
    public int ConjugateGradientSteps { get; init; } = 3;

    /// <summary>Seed of the initial factors: the same seed gives the same factors whatever the thread count.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Standard deviation of the initial factor entries, divided by √k.</summary>
    public float InitialScale { get; init; } = 0.1f;

    /// <summary>Threads for the row solves (−1 = all cores). Does not change the result.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>Throws naming the first setting out of range.</summary>
    public void Validate()
    {
        Check(Factors is >= 1 and <= 1024, nameof(Factors), "must be in [1, 1024]");
        Check(Regularization >= 0 && float.IsFinite(Regularization), nameof(Regularization), "must be ≥ 0");
        Check(RegularizationExponent is >= 0 and <= 2, nameof(RegularizationExponent), "must be in [0, 2]");
        Check(Alpha >= 0 && float.IsFinite(Alpha), nameof(Alpha), "must be ≥ 0");
        Check(Iterations is >= 1 and <= 1000, nameof(Iterations), "must be in [1, 1000]");
        Check(ConjugateGradientSteps is >= 0 and <= 1024, nameof(ConjugateGradientSteps), "must be in [0, 1024]");
        Check(InitialScale > 0 && float.IsFinite(InitialScale), nameof(InitialScale), "must be > 0");
        Check(MaxDegreeOfParallelism == -1 || MaxDegreeOfParallelism >= 1, nameof(MaxDegreeOfParallelism), "must be -1 or ≥ 1");
    }

    private static void Check(bool ok, string name, string rule)
    {
        if (!ok)
        {
            throw new ArgumentOutOfRangeException(name, $"ImplicitAlsSettings.{name} {rule}.");
        }
    }
}
