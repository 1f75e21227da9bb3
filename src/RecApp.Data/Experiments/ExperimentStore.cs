using System.Text.Json;
using Npgsql;
using RecApp.Engine.Domain;

namespace RecApp.Data.Experiments;

/// <summary>The experiment a start would collide with: another one already running on the same surface.</summary>
public sealed class SurfaceBusyException(string running) : Exception($"Experiment '{running}' is already running on this surface.")
{
    public string Running { get; } = running;
}

/// <summary>Results of one experiment per variant: exposed users and those who clicked, bought, or engaged with what they were shown.</summary>
public sealed record VariantOutcome(string Variant, long Users, long Exposures, long Clickers, long Buyers, long Engagements);

/// <summary>The <c>experiments</c> and <c>experiment_exposures</c> tables.</summary>
public sealed class ExperimentStore(NpgsqlDataSource dataSource)
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    /// <summary>Creates a draft; false when the name is taken.</summary>
    public async Task<bool> CreateAsync(ExperimentDefinition experiment, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO experiments (name, surface, salt, variants) VALUES ($1, $2, $3, $4::jsonb)
            ON CONFLICT (name) DO NOTHING
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = experiment.Name });
        command.Parameters.Add(new NpgsqlParameter { Value = Surface(experiment.Surface) });
        command.Parameters.Add(new NpgsqlParameter { Value = experiment.Salt });
        command.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(experiment.Variants, s_json) });
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>Starts a draft (or restarts a stopped one). Throws <see cref="SurfaceBusyException"/> when its surface is taken.</summary>
    public async Task<ExperimentDefinition?> StartAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            return await ChangeStatusAsync(name, "UPDATE experiments SET status = 'running', started_at = now(), stopped_at = NULL WHERE name = $1 RETURNING " + DefinitionColumns, cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            var experiment = await GetAsync(name, cancellationToken);
            var running = (await ListAsync(cancellationToken))
                .FirstOrDefault(e => e.Status == ExperimentStatus.Running && e.Surface == experiment?.Surface);
            throw new SurfaceBusyException(running?.Name ?? "another experiment");
        }
    }

    public Task<ExperimentDefinition?> StopAsync(string name, CancellationToken cancellationToken) =>
        ChangeStatusAsync(name, "UPDATE experiments SET status = 'stopped', stopped_at = now() WHERE name = $1 AND status = 'running' RETURNING " + DefinitionColumns, cancellationToken);

    public async Task<ExperimentDefinition?> GetAsync(string name, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {DefinitionColumns} FROM experiments WHERE name = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        return (await ReadAsync(command, cancellationToken)).FirstOrDefault();
    }

    public async Task<IReadOnlyList<ExperimentDefinition>> ListAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {DefinitionColumns} FROM experiments ORDER BY created_at DESC, name");
        return await ReadAsync(command, cancellationToken);
    }

    /// <summary>Writes a batch of exposures with binary COPY.</summary>
    public async Task RecordAsync(IReadOnlyList<Exposure> exposures, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var writer = await connection.BeginBinaryImportAsync(
            "COPY experiment_exposures (experiment, variant, user_id, items, shown_at) FROM STDIN (FORMAT BINARY)", cancellationToken);
        foreach (var exposure in exposures)
        {
            await writer.StartRowAsync(cancellationToken);
            await writer.WriteAsync(exposure.Experiment, NpgsqlTypes.NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync(exposure.Variant, NpgsqlTypes.NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync(exposure.UserId, NpgsqlTypes.NpgsqlDbType.Bigint, cancellationToken);
            await writer.WriteAsync(exposure.Items, NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Bigint, cancellationToken);
            await writer.WriteAsync(exposure.ShownAt, NpgsqlTypes.NpgsqlDbType.TimestampTz, cancellationToken);
        }
        await writer.CompleteAsync(cancellationToken);
    }

    /// <summary>
    /// Per variant: users shown a list, and how many of them clicked, bought, or did anything with an item of a list
    /// they were shown, within <paramref name="window"/> after it was shown. Users, not requests, are the unit.
    /// </summary>
    public async Task<IReadOnlyList<VariantOutcome>> OutcomesAsync(string name, TimeSpan window, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            WITH shown AS (
                SELECT variant, user_id, items, shown_at FROM experiment_exposures WHERE experiment = $1),
            users AS (
                SELECT variant, user_id, count(*) AS exposures FROM shown GROUP BY variant, user_id),
            acted AS (
                SELECT s.variant, s.user_id,
                       bool_or(i.type = $3) AS clicked, bool_or(i.type = $4) AS bought, count(*) AS engagements
                FROM shown s
                JOIN interactions i ON i.user_id = s.user_id AND i.item_id = ANY (s.items)
                                   AND i.occurred_at >= s.shown_at AND i.occurred_at < s.shown_at + $2
                GROUP BY s.variant, s.user_id)
            SELECT u.variant, count(*), sum(u.exposures)::bigint,
                   count(*) FILTER (WHERE a.clicked), count(*) FILTER (WHERE a.bought), coalesce(sum(a.engagements), 0)::bigint
            FROM users u LEFT JOIN acted a USING (variant, user_id)
            GROUP BY u.variant
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        command.Parameters.Add(new NpgsqlParameter { Value = window });
        command.Parameters.Add(new NpgsqlParameter { Value = (short)InteractionType.Click });
        command.Parameters.Add(new NpgsqlParameter { Value = (short)InteractionType.Purchase });
        var outcomes = new List<VariantOutcome>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            outcomes.Add(new VariantOutcome(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2),
                reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5)));
        }
        return outcomes;
    }

    private async Task<ExperimentDefinition?> ChangeStatusAsync(string name, string sql, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        return (await ReadAsync(command, cancellationToken)).FirstOrDefault();
    }

    // Named, not *: a statement prepared on a pooled connection (automatic preparation) would fail once a migration
    // changed the table's columns under a running service.
    private const string DefinitionColumns = "name, surface, salt, variants, status, created_at, started_at, stopped_at";

    private static async Task<List<ExperimentDefinition>> ReadAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var experiments = new List<ExperimentDefinition>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            experiments.Add(new ExperimentDefinition(
                reader.GetString(reader.GetOrdinal("name")),
                Enum.Parse<ExperimentSurface>(reader.GetString(reader.GetOrdinal("surface")), ignoreCase: true),
                reader.GetString(reader.GetOrdinal("salt")),
                JsonSerializer.Deserialize<ExperimentVariant[]>(reader.GetString(reader.GetOrdinal("variants")), s_json)!,
                Enum.Parse<ExperimentStatus>(reader.GetString(reader.GetOrdinal("status")), ignoreCase: true),
                reader.GetFieldValue<DateTimeOffset>(reader.GetOrdinal("created_at")),
                reader.IsDBNull(reader.GetOrdinal("started_at")) ? null : reader.GetFieldValue<DateTimeOffset>(reader.GetOrdinal("started_at")),
                reader.IsDBNull(reader.GetOrdinal("stopped_at")) ? null : reader.GetFieldValue<DateTimeOffset>(reader.GetOrdinal("stopped_at"))));
        }
        return experiments;
    }

    public static string Surface(ExperimentSurface surface) => surface.ToString().ToLowerInvariant();
}

/// <summary>One answer served in an experiment: who saw which items, in which variant, when.</summary>
public sealed record Exposure(string Experiment, string Variant, long UserId, long[] Items, DateTimeOffset ShownAt);
