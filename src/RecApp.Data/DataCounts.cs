using Npgsql;
using RecApp.Engine.Domain;

namespace RecApp.Data;

/// <summary>
/// The service contract's statistics (items, likes, clicks, users, interactions), counted where the data lives.
/// <see cref="Estimated"/>: the interaction figures are the planner's estimates (a large table).
/// </summary>
public sealed record DataCounts(long Items, long ActiveItems, long Users, long Interactions, long Likes, long Clicks, bool Estimated);

/// <summary>Counts <c>recdb</c>'s tables cheaply: exactly while <c>interactions</c> is small, from the planner's statistics after.</summary>
public sealed class DataCountReader(NpgsqlDataSource dataSource)
{
    private const long ExactCountBelow = 100_000;

    public NpgsqlDataSource DataSource => dataSource;

    public async Task<DataCounts> ReadAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT (SELECT count(*) FROM items),
                   (SELECT count(*) FROM items WHERE active),
                   (SELECT count(*) FROM users),
                   (SELECT reltuples::bigint FROM pg_class WHERE oid = 'interactions'::regclass)
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var (items, active, users, estimate) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
        await reader.CloseAsync();

        // reltuples is -1 before the first ANALYZE and rough on small tables: count exactly when that is cheap. On a
        // large table, likes and clicks come from the planner's statistics too: interaction types are few, so every
        // one of them is among the column's most common values, with its frequency.
        if (estimate >= ExactCountBelow)
        {
            await using var byType = new NpgsqlCommand("""
                SELECT v::text::smallint, f FROM pg_stats s, unnest(s.most_common_vals::text::text[], s.most_common_freqs) AS m(v, f)
                WHERE s.schemaname = current_schema() AND s.tablename = 'interactions' AND s.attname = 'type'
                """, connection);
            long likes = 0, clicks = 0;
            await using (var frequencies = await byType.ExecuteReaderAsync(cancellationToken))
            {
                while (await frequencies.ReadAsync(cancellationToken))
                {
                    var share = (long)Math.Round(frequencies.GetFloat(1) * estimate);
                    switch ((InteractionType)frequencies.GetInt16(0))
                    {
                        case InteractionType.Like: likes = share; break;
                        case InteractionType.Click: clicks = share; break;
                    }
                }
            }
            return new DataCounts(items, active, users, estimate, likes, clicks, Estimated: true);
        }
        await using var count = new NpgsqlCommand($"""
            SELECT count(*), count(*) FILTER (WHERE type = {(short)InteractionType.Like}), count(*) FILTER (WHERE type = {(short)InteractionType.Click})
            FROM interactions
            """, connection);
        await using var exact = await count.ExecuteReaderAsync(cancellationToken);
        await exact.ReadAsync(cancellationToken);
        return new DataCounts(items, active, users, exact.GetInt64(0), exact.GetInt64(1), exact.GetInt64(2), Estimated: false);
    }
}
