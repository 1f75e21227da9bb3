using Microsoft.Extensions.Configuration;

namespace RecApp.ServiceDefaults;

public static class ConnectionStringExtensions
{
    /// <summary>
    /// The connection string Aspire's <c>WithReference</c> injects as <c>ConnectionStrings__{name}</c>.
    /// Missing means the service cannot work, so start-up fails with a message naming the setting.
    /// </summary>
    public static string GetRequiredConnectionString(this IConfiguration configuration, string name)
    {
        var value = configuration.GetConnectionString(name);
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new InvalidConfigurationException(
                $"Connection string 'ConnectionStrings:{name}' is not set. Set the environment variable " +
                $"ConnectionStrings__{name} or add it to appsettings.json (Aspire's WithReference sets it for you).");
        }
        return value;
    }
}
