namespace RecApp.Engine.Embeddings;

/// <summary>One k-dimensional vector per user index (row-major); a user without cells has the zero vector.</summary>
public sealed class UserEmbeddings
{
    private readonly float[] _vectors;

    public UserEmbeddings(float[] vectors, int count, int factors)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        if (vectors.Length != (long)count * factors)
        {
            throw new ArgumentException($"Expected {count} × {factors} values.", nameof(vectors));
        }
        _vectors = vectors;
        Count = count;
        Factors = factors;
    }

    public int Count { get; }
    public int Factors { get; }

    /// <summary>All vectors, row-major (user u at <c>[u·k, (u+1)·k)</c>), e.g. to store them.</summary>
    public ReadOnlySpan<float> Values => _vectors;

    public ReadOnlySpan<float> Vector(int user)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)user, (uint)Count, nameof(user));
        return _vectors.AsSpan(user * Factors, Factors);
    }
}
