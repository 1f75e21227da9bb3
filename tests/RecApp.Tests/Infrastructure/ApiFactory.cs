using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace RecApp.Tests.Infrastructure;

/// <summary>
/// Runs the real API in memory against real PostgreSQL and Redis, configured through the same keys Aspire
/// injects. Extra settings (options under test) go in <paramref name="settings"/>.
/// </summary>
public sealed class ApiFactory(string postgres, string redis, IReadOnlyDictionary<string, string?>? settings = null)
    : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("ConnectionStrings:recdb", postgres);
        builder.UseSetting("ConnectionStrings:redis", redis);
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }
    }
}
