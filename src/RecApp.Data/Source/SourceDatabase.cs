using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using RecApp.Engine.Domain;
using RecApp.Engine.Embeddings;
using RecApp.Data;
using RecApp.Data.Catalog;
using RecApp.Data.Users;

namespace RecApp.Data.Source;

/// <summary>What the source database knows about one user: recent events, every item touched, demographics.</summary>
/// <summary>The service contract's main-database statistics, counted in the source.</summary>

/// <summary>
/// The shop's own database (the service contract's "main database"), read-only: catalog, users and interactions through the
/// mapping of <see cref="SourceDatabaseOptions"/>. RecApp never writes here: the data source is keyed
/// (<see cref="SourceDatabaseOptions.ConnectionName"/>) so nothing that writes can pick it up by accident, and its
/// sessions start read-only. Registered only when the connection is configured; consumers take it as an optional
/// constructor parameter (null: the single-database mode, everything in <c>recdb</c>).
/// </summary>
public sealed class SourceDatabase : ICatalogReader, IShopUserReader
{
    private readonly ILogger _logger;
    private readonly string _itemsQuery;
    private readonly string _usersQuery;
    private readonly string _interactionsQuery;

    public SourceDatabase(
        [FromKeyedServices(SourceDatabaseOptions.ConnectionName)] NpgsqlDataSource dataSource,
        IOptions<SourceDatabaseOptions> options,
        ILogger<SourceDatabase> logger)
    {
        DataSource = dataSource;
        _logger = logger;
        _itemsQuery = Subquery(options.Value.ItemsQuery);
        _usersQuery = Subquery(options.Value.UsersQuery);
        _interactionsQuery = Subquery(options.Value.InteractionsQuery);
    }

    // Each mapping query wrapped, and cast to RecApp's types so a view with int ids or varchar titles maps as it is.
    // A filter goes inside, on the uncast column (s.user_id = $1), so an index on the shop's own column serves it.
    private string Items(string where = "") => $"""
        SELECT s.id::bigint AS id, s.title::text AS title, s.category::text AS category, coalesce(s.tags::text[], {NoTags}) AS tags,
               s.price::numeric AS price, s.geo_id::int AS geo_id, s.active::bool AS active,
               s.created_at::timestamptz AS created_at, s.updated_at::timestamptz AS updated_at
        FROM ({_itemsQuery}) AS s{where}
        """;

    private string Users(string where = "") => $"""
        SELECT s.id::bigint AS id, s.gender::text AS gender, s.age_group::text AS age_group, s.geo_id::int AS geo_id
        FROM ({_usersQuery}) AS s{where}
        """;

    private string Interactions(string where = "") => $"""
        SELECT s.user_id::bigint AS user_id, s.item_id::bigint AS item_id, s.type::text AS type, s.value::real AS value,
               s.occurred_at::timestamptz AS occurred_at
        FROM ({_interactionsQuery}) AS s{where}
        """;

    private const string NoTags = "'{}'::text[]";

    public NpgsqlDataSource DataSource { get; }

    private static string Subquery(string query) => query.Trim().TrimEnd(';').Trim();

    /// <summary>Catalog rows, all or those with <c>updated_at</c> at or after <paramref name="updatedSince"/>, by id.</summary>
    public async Task<List<CatalogItem>> ReadItemsAsync(NpgsqlConnection connection, DateTime? updatedSince, CancellationToken cancellationToken)
    {
        var where = updatedSince is { } since ? $" WHERE s.updated_at >= '{since:O}'::timestamptz" : "";
        var items = new List<CatalogItem>();
        await using var reader = await connection.BeginBinaryExportAsync(
            $"COPY (SELECT id, title, category, tags, price, geo_id, active, created_at FROM ({Items(where)}) AS m ORDER BY id) TO STDOUT (FORMAT BINARY)",
            cancellationToken);
        while (reader.StartRow() != -1)
        {
            var id = reader.Read<long>(NpgsqlDbType.Bigint);
            var title = reader.ReadNullableText() ?? "";
            var category = reader.ReadNullableText() ?? "";
            var tags = reader.Read<string[]>(NpgsqlDbType.Array | NpgsqlDbType.Text);
            var price = reader.ReadNullable<decimal>(NpgsqlDbType.Numeric) ?? 0m;
            int? geo = reader.ReadNullable<int>(NpgsqlDbType.Integer);
            var active = reader.ReadNullable<bool>(NpgsqlDbType.Boolean) ?? true;
            var created = reader.Read<DateTime>(NpgsqlDbType.TimestampTz);
            items.Add(new CatalogItem(id, title, category, tags, price, geo, active, created));
        }
        return items;
    }

    /// <summary>The newest <c>updated_at</c> of the catalog (the API's poll watermark), null when it is empty.</summary>
    private async Task<DateTime?> ReadItemsWatermarkAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT max(updated_at) FROM ({Items()}) AS m", connection);
        return await command.ExecuteScalarAsync(cancellationToken) is DateTime at ? at : null;
    }

    public async Task<(List<CatalogItem> Items, DateTime? Watermark)> ReadChangesAsync(DateTime? since, CancellationToken cancellationToken)
    {
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken);
        var watermark = await ReadItemsWatermarkAsync(connection, cancellationToken);
        if (since is not null && watermark is not null && watermark <= since)
        {
            return ([], watermark);
        }
        return (await ReadItemsAsync(connection, since, cancellationToken), watermark);
    }

    /// <summary>One item and its <c>updated_at</c>, or null.</summary>
    public async Task<StoredItem?> ReadItemAsync(long id, CancellationToken cancellationToken)
    {
        await using var command = DataSource.CreateCommand(
            $"SELECT {CatalogStore.ItemColumns} FROM ({Items(" WHERE s.id = $1")}) AS m LIMIT 1");
        command.Parameters.Add(new() { Value = id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        var item = new CatalogItem(
            reader.GetInt64(0), reader.IsDBNull(1) ? "" : reader.GetString(1), reader.IsDBNull(2) ? "" : reader.GetString(2),
            reader.GetFieldValue<string[]>(3), reader.IsDBNull(4) ? 0m : reader.GetDecimal(4),
            reader.IsDBNull(5) ? null : reader.GetInt32(5), reader.IsDBNull(6) || reader.GetBoolean(6), reader.GetDateTime(7));
        return new StoredItem(item, reader.IsDBNull(8) ? item.CreatedAt : reader.GetDateTime(8));
    }

    /// <summary>Every user's demographics, by id.</summary>
    public Task<List<UserDemographics>> ReadUsersAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        UserReads.ReadAllAsync(connection, $"SELECT id, gender, age_group, geo_id FROM ({Users()}) AS m ORDER BY id", cancellationToken);

    /// <summary>Every interaction whose type is one of RecApp's names (others are counted, logged and skipped).</summary>
    public async Task<List<Interaction>> ReadInteractionsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var interactions = new List<Interaction>();
        long skipped = 0;
        await using (var reader = await connection.BeginBinaryExportAsync(
            $"COPY (SELECT user_id, item_id, type, value, occurred_at FROM ({Interactions()}) AS m) TO STDOUT (FORMAT BINARY)", cancellationToken))
        {
            while (reader.StartRow() != -1)
            {
                var user = reader.Read<long>(NpgsqlDbType.Bigint);
                var item = reader.Read<long>(NpgsqlDbType.Bigint);
                var name = reader.ReadNullableText();
                float? value = reader.ReadNullable<float>(NpgsqlDbType.Real);
                var at = reader.Read<DateTime>(NpgsqlDbType.TimestampTz);
                if (InteractionTypeNames.TryParse(name, out var type))
                {
                    interactions.Add(new Interaction(user, item, type, value, at));
                }
                else
                {
                    skipped++;
                }
                if ((interactions.Count & 0xFFFF) == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }
        }
        if (skipped > 0)
        {
            _logger.LogWarning("Skipped {Skipped} source interactions whose type is not one of {Types}.",
                skipped, string.Join(", ", InteractionTypeNames.All));
        }
        return interactions;
    }

    /// <summary>
    /// One user as the source knows them, in one round trip (two for a user with more than <paramref name="recent"/>
    /// events): the newest events, every item touched, the demographics row (null when the source has none).
    /// </summary>
    public async Task<StoredUser> ReadUserAsync(long userId, int recent, CancellationToken cancellationToken)
    {
        await using var batch = DataSource.CreateBatch();
        var history = new NpgsqlBatchCommand(
            $"SELECT item_id, type, value, occurred_at FROM ({Interactions(" WHERE s.user_id = $1")}) AS m ORDER BY occurred_at DESC, item_id DESC LIMIT $2");
        history.Parameters.Add(new() { Value = userId });
        history.Parameters.Add(new() { Value = recent });
        var user = new NpgsqlBatchCommand($"SELECT gender, age_group, geo_id FROM ({Users(" WHERE s.id = $1")}) AS m LIMIT 1");
        user.Parameters.Add(new() { Value = userId });
        batch.BatchCommands.Add(history);
        batch.BatchCommands.Add(user);

        return await UserReads.ReadOneAsync(batch, userId, recent,
            static reader => InteractionTypeNames.TryParse(reader.IsDBNull(1) ? null : reader.GetString(1), out var type) ? type : null,
            () => UserReads.ForUser(DataSource, $"SELECT DISTINCT s.item_id::bigint FROM ({_interactionsQuery}) AS s WHERE s.user_id = $1", userId),
            cancellationToken);
    }

    /// <summary>The ids among <paramref name="itemIds"/> that the source's catalog does not have.</summary>
    public async Task<long[]> MissingItemsAsync(long[] itemIds, CancellationToken cancellationToken)
    {
        await using var command = DataSource.CreateCommand(
            $"SELECT array_agg(w.id) FROM unnest($1::bigint[]) AS w(id) WHERE NOT EXISTS (SELECT 1 FROM ({_itemsQuery}) AS s WHERE s.id = w.id)");
        command.Parameters.Add(new NpgsqlParameter { Value = itemIds });
        return await command.ExecuteScalarAsync(cancellationToken) as long[] ?? [];
    }

    /// <summary>Exact counts through the mapping (views give the planner no row estimates to use).</summary>
    public async Task<DataCounts> CountAsync(CancellationToken cancellationToken)
    {
        await using var command = DataSource.CreateCommand($"""
            SELECT (SELECT count(*) FROM ({Items()}) AS m),
                   (SELECT count(*) FROM ({Items()}) AS m WHERE active),
                   (SELECT count(*) FROM ({Users()}) AS m),
                   count(*), count(*) FILTER (WHERE type = 'like'), count(*) FILTER (WHERE type = 'click')
            FROM ({Interactions()}) AS m
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new DataCounts(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5), Estimated: false);
    }
}

public static class SourceDatabaseServiceCollectionExtensions
{
    /// <summary>
    /// <see cref="SourceDatabase"/> and its options (section <c>SourceDatabase</c>, validated at start-up). Needs the
    /// keyed <see cref="NpgsqlDataSource"/> named <see cref="SourceDatabaseOptions.ConnectionName"/>.
    /// </summary>
    public static IServiceCollection AddSourceDatabase(this IServiceCollection services)
    {
        services.AddOptions<SourceDatabaseOptions>().BindConfiguration(SourceDatabaseOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SourceDatabaseOptions>, SourceDatabaseOptionsValidator>());
        services.TryAddSingleton<SourceDatabase>();
        // The shop's database is what the catalog and the users are read through, whichever was registered first.
        services.Replace(ServiceDescriptor.Singleton<ICatalogReader>(sp => sp.GetRequiredService<SourceDatabase>()));
        services.TryAddSingleton<IShopUserReader>(sp => sp.GetRequiredService<SourceDatabase>());
        return services;
    }
}
