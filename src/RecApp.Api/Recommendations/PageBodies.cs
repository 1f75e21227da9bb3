using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Options;
using RecApp.Engine.Domain;
using CatalogSnapshot = RecApp.Engine.Model.Catalog;

namespace RecApp.Api.Recommendations;

/// <summary>
/// The JSON of a page, cut from a cached list and serialized once, then written as bytes on every later hit on the
/// same list: a hit looks up the list in the cache and copies two byte arrays around its elapsed time, instead of
/// checking every item against the catalog and serializing a new response. A page is keyed by everything it depends
/// on: the list instance (a new list after an eviction or a new model is a new instance), the catalog's version (every
/// item change makes a new catalog, so a deactivated item disappears from the next answer), the filters, page, limit and
/// the answer's labels. Pages live as long as their list does (weakly attached to it), at most
/// <see cref="PagesPerList"/> per list.
/// </summary>
public sealed class PageBodies
{
    /// <summary>Pages kept per list: the default page, a few others; a client paging further re-renders.</summary>
    public const int PagesPerList = 4;

    private static readonly ConditionalWeakTable<RankedList, Shelf> s_shelves = [];
    private static readonly ConditionalWeakTable<RankedList, Shelf>.CreateValueCallback s_newShelf = static _ => new Shelf();

    private readonly JsonTypeInfo<RecommendationResponse> _json;
    private readonly byte[] _elapsedMarker;

    public PageBodies(IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> options)
    {
        var serializer = options.Value.SerializerOptions;
        _json = (JsonTypeInfo<RecommendationResponse>)serializer.GetTypeInfo(typeof(RecommendationResponse));
        var name = serializer.PropertyNamingPolicy?.ConvertName(nameof(RecommendationResponse.ComputationTimeMs))
            ?? nameof(RecommendationResponse.ComputationTimeMs);
        _elapsedMarker = Encoding.UTF8.GetBytes($"\"{name}\":0");
    }

    /// <summary>The answer for one page of <paramref name="cached"/>; records the page as the arm's exposure in an experiment.</summary>
    public PageResult Serve(CachedList cached, CatalogSnapshot catalog, RecommendationFilters filters, int page, int limit, long started)
    {
        var key = new PageKey(catalog.Version, filters, page, limit, cached.CacheHit, cached.Arm?.Label, cached.Degraded);
        var shelf = s_shelves.GetValue(cached.List, s_newShelf);
        if (shelf.Find(key) is not { } body)
        {
            body = Render(cached, catalog, key);
            shelf.Add(body);
        }
        cached.Arm?.Record(body.Items);
        return new PageResult(body, started);
    }

    private PageBody Render(CachedList cached, CatalogSnapshot catalog, PageKey key)
    {
        // Serialized by the contract's own JSON type with a zero elapsed time, then split around it: the bytes are
        // exactly what the serializer writes, and only the time is written per request.
        var response = PageAnswer.Cut(cached, catalog, key.Filters, key.Page, key.Limit, elapsedMs: 0);
        var json = JsonSerializer.SerializeToUtf8Bytes(response, _json);
        var at = json.AsSpan().IndexOf(_elapsedMarker);
        if (at < 0)
        {
            throw new InvalidOperationException("The response's JSON has no computation time to split at.");
        }
        var headLength = at + _elapsedMarker.Length - 1;
        return new PageBody(key, response.Items, json[..headLength], json[(headLength + 1)..], response.Experiment);
    }

    /// <summary>Everything a page's bytes depend on besides the list itself (the catalog by version: a page kept for
    /// hours must not keep an old catalog alive).</summary>
    internal readonly record struct PageKey(
        long CatalogVersion, RecommendationFilters Filters, int Page, int Limit, bool CacheHit, string? Experiment, string? Degraded);

    /// <summary>The pages of one list: a small array replaced on write, read without locks.</summary>
    private sealed class Shelf
    {
        private readonly Lock _writing = new();
        private PageBody[] _pages = [];

        public PageBody? Find(in PageKey key)
        {
            foreach (var page in Volatile.Read(ref _pages))
            {
                if (page.Key == key)
                {
                    return page;
                }
            }
            return null;
        }

        public void Add(PageBody body)
        {
            lock (_writing)
            {
                var pages = _pages;
                // Oldest out first; two racing renders of one page both land, which only wastes a slot.
                var kept = pages.Length < PagesPerList ? pages : pages[1..];
                Volatile.Write(ref _pages, [.. kept, body]);
            }
        }
    }

    /// <summary>One rendered page: the JSON before and after the elapsed time, and the ids it shows.</summary>
    internal sealed class PageBody(PageKey key, long[] items, byte[] head, byte[] tail, string? experiment)
    {
        public PageKey Key { get; } = key;
        public long[] Items { get; } = items;
        public byte[] Head { get; } = head;
        public byte[] Tail { get; } = tail;
        public string? Experiment { get; } = experiment;
    }
}
