using Npgsql;
using NpgsqlTypes;
using RecApp.Engine.Domain;
using RecApp.Data.Migrations;

namespace RecApp.Tests.Engine;

/// <summary>Loads a <see cref="Dataset"/> into a test database with binary COPY (the engine tests' own loader).</summary>
internal static class EngineDatabase
{
    /// <summary>A fresh, migrated database of its own (tests here publish versions and must not see each other's).</summary>
    public static async Task<NpgsqlDataSource> CreateAsync()
    {
        var postgres = await RecApp.Tests.Infrastructure.TestServers.Postgres;
        var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync("engine"));
        await new DatabaseMigrator(dataSource, Microsoft.Extensions.Logging.Abstractions.NullLogger<DatabaseMigrator>.Instance).MigrateAsync();
        return dataSource;
    }

    public static async Task LoadAsync(NpgsqlDataSource dataSource, Dataset dataset)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using (var items = await connection.BeginBinaryImportAsync(
            "COPY items (id, title, category, tags, price, geo_id, active, created_at) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var item in dataset.Items)
            {
                await items.StartRowAsync();
                await items.WriteAsync(item.Id, NpgsqlDbType.Bigint);
                await items.WriteAsync(item.Title, NpgsqlDbType.Text);
                await items.WriteAsync(item.Category, NpgsqlDbType.Text);
                await items.WriteAsync(item.Tags, NpgsqlDbType.Array | NpgsqlDbType.Text);
                await items.WriteAsync(item.Price, NpgsqlDbType.Numeric);
                await WriteAsync(items, item.GeoId, NpgsqlDbType.Integer);
                await items.WriteAsync(item.Active, NpgsqlDbType.Boolean);
                await items.WriteAsync(item.CreatedAt, NpgsqlDbType.TimestampTz);
            }
            await items.CompleteAsync();
        }
        await using (var users = await connection.BeginBinaryImportAsync(
            "COPY users (id, gender, age_group, geo_id) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var user in dataset.Users)
            {
                await users.StartRowAsync();
                await users.WriteAsync(user.Id, NpgsqlDbType.Bigint);
                await WriteAsync(users, user.Gender, NpgsqlDbType.Text);
                await WriteAsync(users, user.AgeGroup, NpgsqlDbType.Text);
                await WriteAsync(users, user.GeoId, NpgsqlDbType.Integer);
            }
            await users.CompleteAsync();
        }
        await using (var events = await connection.BeginBinaryImportAsync(
            "COPY interactions (user_id, item_id, type, value, occurred_at) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var e in dataset.Interactions)
            {
                await events.StartRowAsync();
                await events.WriteAsync(e.UserId, NpgsqlDbType.Bigint);
                await events.WriteAsync(e.ItemId, NpgsqlDbType.Bigint);
                await events.WriteAsync((short)e.Type, NpgsqlDbType.Smallint);
                await WriteAsync(events, e.Value, NpgsqlDbType.Real);
                await events.WriteAsync(e.OccurredAt, NpgsqlDbType.TimestampTz);
            }
            await events.CompleteAsync();
        }
    }

    public static async Task<long> ScalarAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    public static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private static Task WriteAsync<T>(NpgsqlBinaryImporter writer, T? value, NpgsqlDbType type) =>
        value is null ? writer.WriteNullAsync() : writer.WriteAsync(value, type);
}
