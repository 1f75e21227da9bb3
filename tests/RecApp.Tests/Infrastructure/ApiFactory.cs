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
        // The heap is the whole test process's, shared by many hosts: no host may pause it for a trim (IdleHeapTrim).
        builder.UseSetting("Memory:IdleTrimAfter", "00:00:00");
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }
    }
}
