using RecApp.Recommendations.Scoring;

namespace RecApp.Api.Recommendations;

public enum RecommendationKind
{
    Popular,
    Personalized,
    Similar,
}

/// <summary>Cache hits and misses as the API saw them, per kind of list (reported by /stats).</summary>
public sealed class RecommendationCounters
{
    private readonly long[] _hits = new long[3];
    private readonly long[] _misses = new long[3];

    internal CachedList Count(RecommendationKind kind, RankedList list, bool hit)
    {
        Interlocked.Increment(ref (hit ? _hits : _misses)[(int)kind]);
        return new CachedList(list, hit);
    }

    public long Hits(RecommendationKind kind) => Interlocked.Read(ref _hits[(int)kind]);

    public long Misses(RecommendationKind kind) => Interlocked.Read(ref _misses[(int)kind]);
}
