using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using RecApp.Api.Recommendations;
using RecApp.Api.Validation;
using RecApp.Engine.Domain;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace RecApp.Tests.Api;

/// <summary>
/// A page's pre-rendered bytes: what they say (the serializer's answer, with the request's own time), when they are
/// reused (the same list, catalog and page) and when not (a new catalog, another page, another label).
/// </summary>
public sealed class PageBodiesTests
{
    private static readonly RecApp.Engine.Model.Catalog s_catalog = RecApp.Engine.Model.Catalog.Create(
        Enumerable.Range(1, 50).Select(i => new CatalogItem(i, "item " + i, i % 2 == 0 ? "even" : "odd", [], 10m + i, null, true, DateTime.UnixEpoch)));

    private static readonly RankedList s_list = new(
        [.. Enumerable.Range(1, 30).Select(i => (long)(31 - i))], [.. Enumerable.Range(1, 30).Select(i => 1f / i)],
        RecommendationAlgorithm.Collaborative, 9);

    private readonly HttpJsonOptions _json = Json();

    [Fact]
    public async Task A_hit_writes_what_the_serializer_writes_with_its_own_time()
    {
        var pages = new PageBodies(Options.Create(_json));
        var cached = new CachedList(s_list, CacheHit: true);
        var written = await WriteAsync(pages.Serve(cached, s_catalog, RecommendationFilters.None, 2, 5, Stopwatch.GetTimestamp()));

        var expected = PageAnswer.Cut(cached, s_catalog, RecommendationFilters.None, 2, 5, elapsedMs: 0);
        using var body = JsonDocument.Parse(written);
        var root = body.RootElement;
        Assert.Equal(expected.Items, root.GetProperty("items").EnumerateArray().Select(i => i.GetInt64()));
        Assert.Equal(new long[] { 25, 24, 23, 22, 21 }, expected.Items);
        Assert.Equal(6, root.GetProperty("pagination").GetProperty("total_pages").GetInt32());
        Assert.True(root.GetProperty("cache_hit").GetBoolean());
        Assert.Equal("collaborative", root.GetProperty("algorithm_used").GetString());
        Assert.Equal(9, root.GetProperty("model_version").GetInt64());
        Assert.True(root.GetProperty("computation_time_ms").GetDouble() >= 0);
        // Byte for byte the serializer's answer, apart from the time.
        var serialized = JsonSerializer.Serialize(expected, _json.SerializerOptions);
        Assert.Equal(serialized, JsonSerializer.Serialize(JsonSerializer.Deserialize<RecommendationResponse>(written, _json.SerializerOptions)! with { ComputationTimeMs = 0 }, _json.SerializerOptions));
    }

    [Fact]
    public void The_same_page_of_the_same_list_is_rendered_once_and_a_new_catalog_renders_again()
    {
        var pages = new PageBodies(Options.Create(_json));
        var cached = new CachedList(s_list, CacheHit: true);
        var first = pages.Serve(cached, s_catalog, RecommendationFilters.None, 1, 5, Stopwatch.GetTimestamp());
        var again = pages.Serve(cached, s_catalog, RecommendationFilters.None, 1, 5, Stopwatch.GetTimestamp());
        Assert.Same(first.Items, again.Items);

        var otherPage = pages.Serve(cached, s_catalog, RecommendationFilters.None, 2, 5, Stopwatch.GetTimestamp());
        Assert.NotEqual(first.Items, otherPage.Items);

        var deactivated = s_catalog.With([s_catalog.Find(30)! with { Active = false }]);
        Assert.True(deactivated.Version > s_catalog.Version);
        var afterChange = pages.Serve(cached, deactivated, RecommendationFilters.None, 1, 5, Stopwatch.GetTimestamp());
        Assert.Contains(30L, first.Items);
        Assert.DoesNotContain(30L, afterChange.Items);
        Assert.Equal(new long[] { 29, 28, 27, 26, 25 }, afterChange.Items);
    }

    [Fact]
    public async Task A_miss_and_a_degraded_answer_are_labelled_as_such_even_after_a_hit_on_the_same_list()
    {
        var pages = new PageBodies(Options.Create(_json));
        await WriteAsync(pages.Serve(new CachedList(s_list, CacheHit: true), s_catalog, RecommendationFilters.None, 1, 5, Stopwatch.GetTimestamp()));
        var degraded = await WriteAsync(pages.Serve(
            new CachedList(s_list, CacheHit: false, Degraded: DegradedReasons.DatabaseUnavailable), s_catalog, RecommendationFilters.None, 1, 5,
            Stopwatch.GetTimestamp()));
        using var body = JsonDocument.Parse(degraded);
        Assert.False(body.RootElement.GetProperty("cache_hit").GetBoolean());
        Assert.Equal(DegradedReasons.DatabaseUnavailable, body.RootElement.GetProperty("degraded").GetString());
    }

    private static HttpJsonOptions Json()
    {
        var options = new HttpJsonOptions();
        ApiEdgeExtensions.UseApiContracts(options.SerializerOptions);
        options.SerializerOptions.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    private static async Task<string> WriteAsync(PageResult result)
    {
        var context = new DefaultHttpContext();
        using var body = new MemoryStream();
        context.Response.Body = body;
        await result.ExecuteAsync(context);
        await context.Response.BodyWriter.CompleteAsync();
        Assert.Equal("application/json; charset=utf-8", context.Response.ContentType);
        Assert.Equal(body.Length, context.Response.ContentLength);
        return System.Text.Encoding.UTF8.GetString(body.ToArray());
    }
}
