using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using RecApp.Data.Users;
using RecApp.ServiceDefaults;
using RecApp.Tests.Api;
using RecApp.Tests.Infrastructure;

namespace RecApp.Tests.Foundation;

/// <summary>What every service's PostgreSQL connection gets when its connection string leaves it unset.</summary>
public sealed class PostgresConnectionDefaultsTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    [Fact]
    public void An_unset_connect_timeout_and_auto_preparation_get_the_defaults()
    {
        var settings = new NpgsqlConnectionStringBuilder(DependencyClients.WithPostgresDefaults("Host=h;Database=recdb"));

        Assert.Equal((DependencyClients.DefaultPostgresConnectTimeoutSeconds, DependencyClients.DefaultPostgresMaxAutoPrepare),
            (settings.Timeout, settings.MaxAutoPrepare));
    }

    [Theory]
    [InlineData("Host=h;Timeout=15;Max Auto Prepare=0", 15, 0)]
    [InlineData("Host=h;maxautoprepare=5", DependencyClients.DefaultPostgresConnectTimeoutSeconds, 5)]
    [InlineData("Host=h;Timeout=9", 9, DependencyClients.DefaultPostgresMaxAutoPrepare)]
    public void A_value_the_connection_string_sets_is_kept(string connectionString, int timeout, int maxAutoPrepare)
    {
        var settings = new NpgsqlConnectionStringBuilder(DependencyClients.WithPostgresDefaults(connectionString));

        Assert.Equal((timeout, maxAutoPrepare), (settings.Timeout, settings.MaxAutoPrepare));
    }

    [Fact]
    public async Task The_api_prepares_the_history_read_it_repeats()
    {
        await using var api = new ApiFactory(world.ConnectionString, world.RedisConnectionString);
        _ = api.Server; // starts the host
        var users = api.Services.GetRequiredService<UserReader>();
        var dataSource = api.Services.GetRequiredService<NpgsqlDataSource>();

        // A connection prepares a statement on its fifth use; the pool may hand out several connections, so keep reading
        // until the one that answers the check has prepared it.
        long prepared = 0;
        await LocalProcess.WaitUntilAsync(async () =>
        {
            await users.ReadAsync(1, 20, TestContext.Current.CancellationToken);
            await using var connection = await dataSource.OpenConnectionAsync(TestContext.Current.CancellationToken);
            await using var count = new NpgsqlCommand(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%FROM interactions WHERE user_id%'", connection);
            prepared = (long)(await count.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
            return prepared > 0;
        }, TimeSpan.FromSeconds(20), "the history read to be prepared on a pooled connection");

        Assert.True(prepared > 0);
    }
}
