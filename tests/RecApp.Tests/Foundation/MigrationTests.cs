using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RecApp.Data;
using RecApp.Data.Migrations;
using RecApp.Tests.Infrastructure;

namespace RecApp.Tests.Foundation;

public sealed class MigrationTests
{
    [Fact]
    public async Task Concurrent_migrators_apply_each_migration_exactly_once()
    {
        var postgres = await TestServers.Postgres;
        var connectionString = await postgres.CreateDatabaseAsync("mig");
        await using var dataSource = NpgsqlDataSource.Create(connectionString);

        // Four processes starting at once, as two API replicas and two Refreshers would.
        var migrators = Enumerable.Range(0, 4)
            .Select(_ => new DatabaseMigrator(dataSource, NullLogger<DatabaseMigrator>.Instance))
            .ToArray();
        var applied = await Task.WhenAll(migrators.Select(m => Task.Run(() => m.MigrateAsync())));

        Assert.Equal(DatabaseMigrator.EmbeddedMigrations.Count, applied.Sum());
        Assert.Contains(applied, count => count == DatabaseMigrator.EmbeddedMigrations.Count);

        await using var command = dataSource.CreateCommand("SELECT count(*), max(version) FROM schema_migrations");
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(DatabaseMigrator.EmbeddedMigrations.Count, reader.GetInt64(0));
        Assert.Equal(DatabaseMigrator.EmbeddedMigrations[^1].Version, reader.GetInt32(1));
    }

    [Fact]
    public async Task Migrating_an_up_to_date_database_applies_nothing()
    {
        var postgres = await TestServers.Postgres;
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync("mig"));
        var migrator = new DatabaseMigrator(dataSource, NullLogger<DatabaseMigrator>.Instance);

        Assert.Equal(DatabaseMigrator.EmbeddedMigrations.Count, await migrator.MigrateAsync());
        Assert.Equal(0, await migrator.MigrateAsync());
    }

    [Fact]
    public async Task An_edited_applied_migration_is_refused()
    {
        var postgres = await TestServers.Postgres;
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync("mig"));
        var migrator = new DatabaseMigrator(dataSource, NullLogger<DatabaseMigrator>.Instance);
        await migrator.MigrateAsync();

        await using (var tamper = dataSource.CreateCommand("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1"))
        {
            await tamper.ExecuteNonQueryAsync();
        }

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => migrator.MigrateAsync());
        Assert.Contains("changed after it was applied", error.Message);
    }
}
