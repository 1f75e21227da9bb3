using Microsoft.Extensions.Configuration;
using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Engine.Embeddings;
using RecApp.Data.Models;
using RecApp.Data.Migrations;
using RecApp.Data.Source;

namespace RecApp.Data;

/// <summary>
/// Every name RecApp uses in Redis, under one key prefix (<c>Caching:KeyPrefix</c>, default <c>recapp:</c>): the cache's
/// keys and backplane, and the pub/sub channels that carry changes between instances. Apps (or test worlds) sharing one
/// Redis with different prefixes never see each other's keys or hear each other's messages.
/// </summary>
public sealed record RedisNames(string KeyPrefix)
{
    public const string DefaultKeyPrefix = "recapp:";

    /// <summary>The configuration key of the prefix.</summary>
    public const string PrefixSetting = "Caching:KeyPrefix";

    public static RedisNames From(IConfiguration configuration) => new(configuration[PrefixSetting] ?? DefaultKeyPrefix);

    /// <summary>Prefix of the cache's L2 keys (FusionCache's <c>CacheKeyPrefix</c>).</summary>
    public string CacheKeys => KeyPrefix + "cache:";

    /// <summary>Prefix of the cache backplane's channel (FusionCache's <c>BackplaneChannelPrefix</c>).</summary>
    public string CacheBackplane => KeyPrefix + "cache";

    /// <summary>The Refresher announces a newly published model version (payload: the version).</summary>
    public string ModelPublished => KeyPrefix + "model:published";

    /// <summary>An instance changed one catalog item (payload: the item id); the others re-read it.</summary>
    public string CatalogChanged => KeyPrefix + "catalog:changed";

    /// <summary>An instance started or stopped an experiment (payload: its name); the others re-read the running ones.</summary>
    public string ExperimentsChanged => KeyPrefix + "experiments:changed";
}
