namespace RecApp.Engine.Embeddings;

/// <summary>
/// Settings of <see cref="ImplicitAlsBuilder"/>. The defaults are one set tuned on MovieLens latest-small and Last.fm 2K
/// under the protocol of <c>../shared/datasets/README.md</c> (mean nDCG@10 over seeds 42, 1, 2: 0.404 and 0.322, against
/// EASE's 0.397 and 0.292); no per-dataset knobs. For large data, <see cref="FitTo"/> trades factors and iterations
/// for build time.
/// </summary>
public sealed record ImplicitAlsSettings
{
    /// <summary>Embedding dimension k. Costs O(k²) per row and k floats per user and item.</summary>
    public int Factors { get; init; } = 128;

    /// <summary>λ of the L2 penalty on every user and item vector.</summary>
    public float Regularization { get; init; } = 5f;

    /// <summary>
    /// ν: a row with n cells is regularized by <c>λ·(1 + n)^ν</c> (0 = plain λ as in Hu et al.; Rendle et al. 2021 find
    /// frequency-scaled regularization helps), so heavy users and popular items are not under-regularized.
    /// </summary>
    public float RegularizationExponent { get; init; } = 0.5f;

    /// <summary>α: an observed cell with value r has confidence <c>1 + α·r</c>; unobserved cells have confidence 1, preference 0.</summary>
    public float Alpha { get; init; } = 5f;

    /// <summary>Alternations (one item half-step then one user half-step each).</summary>
    public int Iterations { get; init; } = 15;

    /// <summary>Conjugate-gradient steps per row and half-step, warm-started from the row's previous value; 0 = exact Cholesky solve (O(k³) per row).</summary>
    public int ConjugateGradientSteps { get; init; } = 3;

    /// <summary>Seed of the initial factors: the same seed gives the same factors whatever the thread count.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Standard deviation of the initial factor entries, divided by √k.</summary>
    public float InitialScale { get; init; } = 0.1f;

    /// <summary>Threads for the row solves (−1 = all cores). Does not change the result.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>Multiply-adds a build costs, roughly: per half-step and CG step, k² per row and 2k per cell and side.</summary>
    public double EstimatedMultiplyAdds(ImplicitFeedbackMatrix matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        var steps = ConjugateGradientSteps == 0 ? Factors / 3.0 : ConjugateGradientSteps + 1.0;
        var rows = (double)matrix.UserCount + matrix.ItemCount;
        return Iterations * steps * (rows * Factors * Factors + 2.0 * 2 * matrix.CellCount * Factors);
    }

    /// <summary>
    /// These settings, or cheaper ones when the matrix is large, until <see cref="EstimatedMultiplyAdds"/> fits
    /// <paramref name="maxMultiplyAdds"/>: factors halve down to 64, then iterations drop down to 10, then factors halve
    /// down to 32, then iterations drop down to 5. Factors go first because their cost is quadratic: at the synthetic
    /// sizes 64 × 15 costs a third of 128 × 13 for about the same quality, while below 64 factors (32 × 10 at L) the
    /// served blend lost 0.005 nDCG@10 against no embedding source at all (docs/EVALUATION.md).
    /// The default budget, 8e10, is roughly 10 s of CPU (about 5 s on two cores): the synthetic L data (300k rows,
    /// 2.5M cells) gets 64 factors and 10 iterations, S 64 and 15; MovieLens- and Last.fm-sized data keep the full
    /// settings (128 × 15).
    /// </summary>
    public ImplicitAlsSettings FitTo(ImplicitFeedbackMatrix matrix, double maxMultiplyAdds = 8e10)
    {
        var fitted = this;
        while (fitted.EstimatedMultiplyAdds(matrix) > maxMultiplyAdds)
        {
            if (fitted.Factors > 64)
            {
                fitted = fitted with { Factors = Math.Max(64, fitted.Factors / 2) };
            }
            else if (fitted.Iterations > 10)
            {
                fitted = fitted with { Iterations = fitted.Iterations - 1 };
            }
            else if (fitted.Factors > 32)
            {
                fitted = fitted with { Factors = Math.Max(32, fitted.Factors / 2) };
            }
            else if (fitted.Iterations > 5)
            {
                fitted = fitted with { Iterations = fitted.Iterations - 1 };
            }
            else
            {
                break;
            }
        }
        return fitted;
    }

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
