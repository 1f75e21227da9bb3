namespace RecApp.Engine;

/// <summary>Ids with their scores, best first.</summary>
public sealed record ScoredIds(long[] Ids, float[] Scores)
{
    public static ScoredIds Empty { get; } = new([], []);
}
