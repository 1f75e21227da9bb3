using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace RecApp.Recommendations;

/// <summary>How a seed environment value is written: a count, or a duration in the unit its name says.</summary>
public enum SeedValueUnit
{
    Count,
    Seconds,
    Minutes,
    Hours,
}

/// <summary>One of seed 002's environment names and the configuration key it stands for.</summary>
public sealed record SeedEnvironmentName(string Name, string Key, SeedValueUnit Unit)
{
    /// <summary>
    /// The value in the key's form (a positive integer, or a <see cref="TimeSpan"/> in "c" format); the seed's
    /// <c>"900 # 15 minutes"</c> style is tolerated, in the invariant culture. Anything else fails, naming the setting.
    /// </summary>
    public string Convert(string raw)
    {
        var text = raw.Split('#', 2)[0].Trim();
        if (Unit == SeedValueUnit.Count)
        {
            return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var count) && count > 0
                ? count.ToString(CultureInfo.InvariantCulture)
                : throw Invalid(raw, "a positive integer");
        }
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) || !(amount > 0) || amount > 1e7)
        {
            throw Invalid(raw, $"a positive number of {Unit.ToString().ToLowerInvariant()}");
        }
        var duration = Unit switch
        {
            SeedValueUnit.Seconds => TimeSpan.FromSeconds(amount),
            SeedValueUnit.Minutes => TimeSpan.FromMinutes(amount),
            _ => TimeSpan.FromHours(amount),
        };
        return duration.ToString("c", CultureInfo.InvariantCulture);
    }

    private OptionsValidationException Invalid(string raw, string expected) =>
        new(Key, typeof(IConfiguration), [$"{Name} must be {expected}, got '{raw}'."]);
}

/// <summary>
/// The one table of seed 002's environment names, and the configuration source that maps them onto the .NET keys,
/// so that every options class simply binds its section. The source is the lowest-priority one: a .NET key set
/// anywhere (appsettings, environment <c>Section__Key</c>, command line) wins over the seed's name.
/// </summary>
public static class SeedEnvironmentNames
{
    public static readonly IReadOnlyList<SeedEnvironmentName> All =
    [
        new("CACHE_TTL_POPULAR", "Api:PopularTtl", SeedValueUnit.Seconds),
        new("CACHE_TTL_PERSONALIZED", "Api:PersonalizedTtl", SeedValueUnit.Seconds),
        new("CACHE_TTL_USER_PROFILE", "Api:UserProfileTtl", SeedValueUnit.Seconds),
        new("DEFAULT_PAGE_SIZE", "Api:DefaultPageSize", SeedValueUnit.Count),
        new("MAX_PAGE_SIZE", "Api:MaxPageSize", SeedValueUnit.Count),
        new("MAX_SIMILAR_USERS", "Recommendations:MaxSimilarUsers", SeedValueUnit.Count),
        new("POPULAR_ITEMS_REFRESH_MINUTES", "Refresher:PopularItemsRefreshInterval", SeedValueUnit.Minutes),
        new("USER_PROFILES_REFRESH_MINUTES", "Refresher:UserProfilesRefreshInterval", SeedValueUnit.Minutes),
        new("SIMILARITIES_REFRESH_MINUTES", "Refresher:SimilaritiesRefreshInterval", SeedValueUnit.Minutes),
        new("CACHE_CLEANUP_HOURS", "Refresher:CleanupInterval", SeedValueUnit.Hours),
    ];

    /// <summary>Adds the mapping (once) below every other configuration source.</summary>
    public static IConfigurationManager AddSeedEnvironmentNames(this IConfigurationManager configuration)
    {
        if (!configuration.Sources.OfType<SeedEnvironmentSource>().Any())
        {
            configuration.Sources.Insert(0, new SeedEnvironmentSource(configuration));
        }
        return configuration;
    }

    private sealed class SeedEnvironmentSource(IConfiguration root) : IConfigurationSource
    {
        public IConfigurationProvider Build(IConfigurationBuilder builder) => new SeedEnvironmentProvider(root);
    }

    /// <summary>Answers a mapped key from its seed name's current value in the whole configuration (read on demand).</summary>
    private sealed class SeedEnvironmentProvider(IConfiguration root) : ConfigurationProvider
    {
        public override bool TryGet(string key, out string? value)
        {
            value = null;
            foreach (var name in All)
            {
                if (string.Equals(name.Key, key, StringComparison.OrdinalIgnoreCase) && root[name.Name] is { } raw)
                {
                    value = name.Convert(raw);
                    return true;
                }
            }
            return false;
        }

        public override IEnumerable<string> GetChildKeys(IEnumerable<string> earlierKeys, string? parentPath)
        {
            var keys = earlierKeys.ToList();
            var prefix = parentPath is null ? "" : parentPath + ConfigurationPath.KeyDelimiter;
            foreach (var name in All)
            {
                if (name.Key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && root[name.Name] is not null)
                {
                    keys.Add(name.Key[prefix.Length..].Split(ConfigurationPath.KeyDelimiter)[0]);
                }
            }
            keys.Sort(ConfigurationKeyComparer.Instance);
            return keys;
        }
    }
}
