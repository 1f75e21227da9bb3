using Npgsql;
using RecApp.Tests.Infrastructure;

namespace RecApp.Tests.Api;

/// <summary>On a large interactions table /stats answers from the planner's statistics instead of counting.</summary>
public sealed class LargeStatsTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    [Fact]
    public async Task Likes_and_clicks_of_a_large_table_are_estimated_from_the_planners_statistics()
    {
        var postgres = await TestServers.Postgres;
        var connectionString = await postgres.CreateDatabaseAsync("large");
        await using (var dataSource = NpgsqlDataSource.Create(connectionString))
        {
            await new RecApp.Data.Migrations.DatabaseMigrator(
                dataSource, Microsoft.Extensions.Logging.Abstractions.NullLogger<RecApp.Data.Migrations.DatabaseMigrator>.Instance)
                .MigrateAsync();
            // 150,000 events: one in five a like (type 2), two in five clicks (type 1), the rest views.
            await using var fill = dataSource.CreateCommand("""
                INSERT INTO interactions (user_id, item_id, type, occurred_at)
                SELECT g % 5000, g % 700, (ARRAY[2, 1, 1, 0, 0])[g % 5 + 1], now() FROM generate_series(1, 150000) AS g;
                ANALYZE interactions;
                """);
            await fill.ExecuteNonQueryAsync();
        }
        await using var api = world.CreateApi(postgres: connectionString, settings: new Dictionary<string, string?>
        {
            ["Recommendations:Store:SnapshotStartupWait"] = "00:00:00.100",
        });
        using var client = api.CreateClient();

        var data = (await (await client.GetAsync("/stats")).JsonAsync()).GetProperty("data");

        Assert.True(data.GetProperty("interactions_estimated").GetBoolean());
        Assert.InRange(data.GetProperty("likes").GetInt64(), 27_000, 33_000);
        Assert.InRange(data.GetProperty("clicks").GetInt64(), 54_000, 66_000);
    }
}
