using System.Diagnostics;
using System.Diagnostics.Metrics;
using RecApp.Engine.Model;
using RecApp.Engine.Training;
using RecApp.Engine.Embeddings;
using RecApp.Data;
using RecApp.Data.Models;
using RecApp.Api.Model;
using RecApp.Engine.Domain;

namespace RecApp.Api.Recommendations;

public enum RecommendationKind
{
    Popular,
    Personalized,
    Similar,
}

/// <summary>
/// The API's telemetry (meter and activity source <c>RecApp.Api</c>): answers by kind, algorithm and cache hit, the
/// in-process model version, and a span per engine run. <c>/stats</c> reports the same hit and miss totals.
/// </summary>
public sealed class RecommendationMetrics
{
    public const string Name = "RecApp.Api";

    public static readonly ActivitySource Source = new(Name);

    private static readonly string[] s_kinds = ["popular", "personalized", "similar"];

    private readonly long[] _hits = new long[3];
    private readonly long[] _misses = new long[3];
    private long _fallbacks;
    private readonly Counter<long> _answers;

    public RecommendationMetrics(IMeterFactory meters, IGlobalModel model)
    {
        var meter = meters.Create(Name);
        _answers = meter.CreateCounter<long>("recapp.recommendations.answers", "{answer}",
            "Ranked lists answered, by kind, algorithm and whether the cache had them.");
        meter.CreateObservableGauge("recapp.model.version", () => model.Current.Version, "{version}",
            "The model version this API instance serves.");
    }

    internal CachedList Count(RecommendationKind kind, RankedList list, bool hit)
    {
        Interlocked.Increment(ref (hit ? _hits : _misses)[(int)kind]);
        if (_answers.Enabled)
        {
            _answers.Add(1, new TagList { { "kind", s_kinds[(int)kind] }, { "algorithm", list.Algorithm.ToWireName() }, { "cache_hit", hit } });
        }
        return new CachedList(list, hit);
    }

    /// <summary>One personalized answer degraded to the popular list (the database could not be read).</summary>
    internal void CountFallback() => Interlocked.Increment(ref _fallbacks);

    public long Fallbacks => Interlocked.Read(ref _fallbacks);

    public long Hits(RecommendationKind kind) => Interlocked.Read(ref _hits[(int)kind]);

    public long Misses(RecommendationKind kind) => Interlocked.Read(ref _misses[(int)kind]);
}
