using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using RecApp.Api.Recommendations;
using RecApp.Api.Validation;
using RecApp.Engine.Domain;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace RecApp.Benchmarks.Caching;

/// <summary>
/// What a cache hit does after the cache returned the list: the page cut against the live catalog and serialized per
/// request (<see cref="CutAndSerialize"/>, how hits were answered before), against the page rendered once per list and
/// written as bytes (<see cref="RenderedPage"/>, <see cref="PageBodies"/> and <see cref="PageResult"/>), both with the
/// API's JSON contract, a 200-item list and a 16,000-item catalog.
/// Run: <c>dotnet run -c Release --project bench/RecApp.Benchmarks -- --filter '*PageHit*'</c>.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Throughput, launchCount: 1, warmupCount: 3, iterationCount: 8)]
public class PageHitBenchmarks
{
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private CachedList _cached;
    private RecApp.Engine.Model.Catalog _catalog = null!;
    private PageBodies _pages = null!;
    private JsonTypeInfo<RecommendationResponse> _json = null!;
    private DefaultHttpContext _context = null!;

    [GlobalSetup]
    public void Setup()
    {
        var options = new HttpJsonOptions();
        ApiEdgeExtensions.UseApiContracts(options.SerializerOptions);
        options.SerializerOptions.MakeReadOnly(populateMissingResolver: true);
        _json = (JsonTypeInfo<RecommendationResponse>)options.SerializerOptions.GetTypeInfo(typeof(RecommendationResponse));
        _pages = new PageBodies(Options.Create(options));
        _catalog = RecApp.Engine.Model.Catalog.Create(Enumerable.Range(1, 16_000).Select(i =>
            new CatalogItem(i, "item " + i, "c" + (i % 20), [], 10m + (i % 100), null, Active: true, DateTime.UnixEpoch)));
        var list = new RankedList(
            [.. Enumerable.Range(1, 200).Select(i => (long)(i * 37 % 16_000 + 1))], [.. Enumerable.Range(1, 200).Select(i => 1f / i)],
            RecommendationAlgorithm.Collaborative, 7);
        _cached = new CachedList(list, CacheHit: true);
        _context = new DefaultHttpContext();
        _context.Response.Body = Stream.Null;
    }

    [Benchmark(Baseline = true)]
    public int CutAndSerialize()
    {
        _buffer.ResetWrittenCount();
        var response = PageAnswer.Cut(_cached, _catalog, RecommendationFilters.None, 1, 20, PageAnswer.ElapsedMs(Stopwatch.GetTimestamp()));
        using var writer = new Utf8JsonWriter(_buffer);
        JsonSerializer.Serialize(writer, response, _json);
        return _buffer.WrittenCount;
    }

    [Benchmark]
    public Task RenderedPage() =>
        _pages.Serve(_cached, _catalog, RecommendationFilters.None, 1, 20, Stopwatch.GetTimestamp()).ExecuteAsync(_context);
}
