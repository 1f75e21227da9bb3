using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace RecApp.ServiceDefaults;

/// <summary>How a contract environment value is written: a count, or a duration in the unit its name says.</summary>
public enum ContractValueUnit
{
    Count,
    Seconds,
    Minutes,
    Hours,

    /// <summary><c>postgresql://user:password@host:5432/database?sslmode=require</c>, as an Npgsql connection string.</summary>
    PostgresUrl,

    /// <summary><c>redis://[:password@]host:6379[/database]</c> (<c>rediss://</c> for TLS), as a StackExchange.Redis configuration.</summary>
    RedisUrl,
}

/// <summary>One of the service contract's environment names and the configuration key it stands for.</summary>
public sealed record ContractEnvironmentName(string Name, string Key, ContractValueUnit Unit)
{
    /// <summary>
    /// The value in the key's form (a positive integer, or a <see cref="TimeSpan"/> in "c" format); the contract's
    /// <c>"900 # 15 minutes"</c> style is tolerated, in the invariant culture. Anything else fails, naming the setting.
    /// </summary>
    public string Convert(string raw)
    {
        if (Unit is ContractValueUnit.PostgresUrl or ContractValueUnit.RedisUrl)
        {
            return ConnectionUrl(raw.Trim());
        }
        var text = raw.Split('#', 2)[0].Trim();
        if (Unit == ContractValueUnit.Count)
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
            ContractValueUnit.Seconds => TimeSpan.FromSeconds(amount),
            ContractValueUnit.Minutes => TimeSpan.FromMinutes(amount),
            _ => TimeSpan.FromHours(amount),
        };
        return duration.ToString("c", CultureInfo.InvariantCulture);
    }

    private string ConnectionUrl(string raw)
    {
        var postgres = Unit == ContractValueUnit.PostgresUrl;
        string[] schemes = postgres ? ["postgresql", "postgres"] : ["redis", "rediss"];
        var example = postgres ? "postgresql://user:password@host:5432/database" : "redis://host:6379/0";
        if (!Uri.TryCreate(raw, UriKind.Absolute, out var url) || !schemes.Contains(url.Scheme) || string.IsNullOrEmpty(url.Host))
        {
            throw Invalid("(not shown: it may hold a password)", $"a URL like {example}");
        }
        var user = Uri.UnescapeDataString(url.UserInfo.Split(':', 2)[0]);
        var password = url.UserInfo.Contains(':') ? Uri.UnescapeDataString(url.UserInfo.Split(':', 2)[1]) : null;
        var path = url.AbsolutePath.Trim('/');
        if (postgres)
        {
            var settings = new Npgsql.NpgsqlConnectionStringBuilder
            {
                Host = url.Host,
                Port = url.IsDefaultPort || url.Port < 0 ? 5432 : url.Port,
                Database = path.Length == 0 ? null : Uri.UnescapeDataString(path),
            };
            if (user.Length > 0)
            {
                settings.Username = user;
            }
            settings.Password = password;
            var query = System.Web.HttpUtility.ParseQueryString(url.Query);
            if (query["sslmode"] is { } sslMode && Enum.TryParse<Npgsql.SslMode>(sslMode.Replace("-", ""), ignoreCase: true, out var mode))
            {
                settings.SslMode = mode;
            }
            return settings.ConnectionString;
        }
        var redis = new System.Text.StringBuilder($"{url.Host}:{(url.Port < 0 ? 6379 : url.Port)}");
        if (password is not null || user.Length > 0)
        {
            redis.Append(",password=").Append(password ?? user);
        }
        if (path.Length > 0)
        {
            if (!int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out var database))
            {
                throw Invalid("(not shown: it may hold a password)", "a URL whose path is a database number, like redis://host:6379/1");
            }
            redis.Append(",defaultDatabase=").Append(database.ToString(CultureInfo.InvariantCulture));
        }
        if (url.Scheme == "rediss")
        {
            redis.Append(",ssl=true");
        }
        return redis.ToString();
    }

    private OptionsValidationException Invalid(string raw, string expected) =>
        new(Key, typeof(IConfiguration), [$"{Name} must be {expected}, got '{raw}'."]);
}

/// <summary>
/// The one table of the service contract's environment names, and the configuration source that maps them onto the .NET keys,
/// so that every options class simply binds its section. The source is the lowest-priority one: a .NET key set
/// anywhere (appsettings, environment <c>Section__Key</c>, command line) wins over the contract's name.
/// </summary>
public static class ContractEnvironmentNames
{
    public static readonly IReadOnlyList<ContractEnvironmentName> All =
    [
        new("CACHE_TTL_POPULAR", "Api:PopularTtl", ContractValueUnit.Seconds),
        new("CACHE_TTL_PERSONALIZED", "Api:PersonalizedTtl", ContractValueUnit.Seconds),
        new("CACHE_TTL_USER_PROFILE", "Api:UserProfileTtl", ContractValueUnit.Seconds),
        new("DEFAULT_PAGE_SIZE", "Api:DefaultPageSize", ContractValueUnit.Count),
        new("MAX_PAGE_SIZE", "Api:MaxPageSize", ContractValueUnit.Count),
        new("MAX_SIMILAR_USERS", "Recommendations:Neighbors:MaxSimilarUsers", ContractValueUnit.Count),
        new("POPULAR_ITEMS_REFRESH_MINUTES", "Refresher:PopularItemsRefreshInterval", ContractValueUnit.Minutes),
        new("USER_PROFILES_REFRESH_MINUTES", "Refresher:UserProfilesRefreshInterval", ContractValueUnit.Minutes),
        new("SIMILARITIES_REFRESH_MINUTES", "Refresher:SimilaritiesRefreshInterval", ContractValueUnit.Minutes),
        new("CACHE_CLEANUP_HOURS", "Refresher:CleanupInterval", ContractValueUnit.Hours),
        new("RECOMMENDATIONS_DATABASE_URL", "ConnectionStrings:recdb", ContractValueUnit.PostgresUrl),
        new("MAIN_DATABASE_URL", "ConnectionStrings:maindb", ContractValueUnit.PostgresUrl),
        new("RECOMMENDATIONS_REDIS_URL", "ConnectionStrings:redis", ContractValueUnit.RedisUrl),
    ];

    /// <summary>Adds the mapping (once) below every other configuration source.</summary>
    public static IConfigurationManager AddContractEnvironmentNames(this IConfigurationManager configuration)
    {
        if (!configuration.Sources.OfType<ContractEnvironmentSource>().Any())
        {
            configuration.Sources.Insert(0, new ContractEnvironmentSource(configuration));
        }
        return configuration;
    }

    /// <summary>
    /// <paramref name="configuration"/> with the mapping below it, unless it has the mapping already: for an options
    /// registration used in a host that did not add it (a test's, or a tool's).
    /// </summary>
    public static IConfiguration WithContractNames(IConfiguration configuration) =>
        configuration is IConfigurationRoot root && root.Providers.OfType<ContractEnvironmentProvider>().Any()
            ? configuration
            : new ConfigurationBuilder().Add(new ContractEnvironmentSource(configuration)).AddConfiguration(configuration).Build();

    private sealed class ContractEnvironmentSource(IConfiguration root) : IConfigurationSource
    {
        public IConfigurationProvider Build(IConfigurationBuilder builder) => new ContractEnvironmentProvider(root);
    }

    /// <summary>Answers a mapped key from its contract name's current value in the whole configuration (read on demand).</summary>
    private sealed class ContractEnvironmentProvider(IConfiguration root) : ConfigurationProvider
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
