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
    [InlineData("Host=h;Command Timeout=60", DependencyClients.DefaultPostgresConnectTimeoutSeconds, DependencyClients.DefaultPostgresMaxAutoPrepare)]
    [InlineData("Host=h;Password=\"a;Timeout=1;Max Auto Prepare=0\"", DependencyClients.DefaultPostgresConnectTimeoutSeconds, DependencyClients.DefaultPostgresMaxAutoPrepare)]
    public void A_value_the_connection_string_sets_is_kept(string connectionString, int timeout, int maxAutoPrepare)
    {
        var settings = new NpgsqlConnectionStringBuilder(DependencyClients.WithPostgresDefaults(connectionString));

        Assert.Equal((timeout, maxAutoPrepare), (settings.Timeout, settings.MaxAutoPrepare));
    }

    [Fact]
    public void The_shops_database_keeps_npgsqls_own_preparation_setting()
    {
        var settings = new NpgsqlConnectionStringBuilder(DependencyClients.WithPostgresDefaults("Host=shop", autoPrepare: false));

        Assert.Equal((DependencyClients.DefaultPostgresConnectTimeoutSeconds, 0), (settings.Timeout, settings.MaxAutoPrepare));
    }

    [Fact]
    public async Task The_api_prepares_the_history_read_it_repeats()
    {
        await using var api = new ApiFactory(world.ConnectionString, world.RedisConnectionString);
        _ = api.Server; // starts the host
        var apiDataSource = api.Services.GetRequiredService<NpgsqlDataSource>();
        Assert.Equal(DependencyClients.DefaultPostgresMaxAutoPrepare,
            new NpgsqlConnectionStringBuilder(apiDataSource.ConnectionString).MaxAutoPrepare);

        // The API's connection settings on one pooled connection, so the check below sees the session that read.
        await using var single = NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(apiDataSource.ConnectionString) { MaxPoolSize = 1 }.ConnectionString);
        var users = new UserReader(single);
        for (var read = 0; read < 6; read++) // Npgsql prepares a statement on its fifth use (Auto Prepare Min Usages)
        {
            await users.ReadAsync(1, 20, TestContext.Current.CancellationToken);
        }
        await using var count = single.CreateCommand(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%FROM interactions WHERE user_id%' OR statement LIKE '%FROM users WHERE id%'");

        Assert.True((long)(await count.ExecuteScalarAsync(TestContext.Current.CancellationToken))! >= 2); // the recent events and the demographics
    }
}
