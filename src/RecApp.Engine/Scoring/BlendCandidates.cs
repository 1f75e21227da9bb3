using RecApp.Engine.Domain;
using RecApp.Engine.Model;

namespace RecApp.Engine.Scoring;

/// <summary>
/// One user's blend-tier candidates, laid out for ranking under many blends (<see cref="ScoringEngine.Prepare"/>):
/// candidate <see cref="Ids"/>, one score per source (<see cref="Columns"/>, row-major, <see cref="SourceCount"/> per
/// candidate; 0 where the source did not propose it), which sources proposed it (<see cref="Present"/>, a bit per
/// source), the freshness factor, and the popular list that fills short lists, ordered.
/// </summary>
internal sealed record BlendCandidates(
    long[] Ids,
    Dictionary<long, int> Index,
    int SourceCount,
    float[] Columns,
    byte[] Present,
    float[] Freshness,
    List<(long Id, float Score)> Popular,
    RecommendationAlgorithm Algorithm);
