using System.Text.Json;
using Npgsql;
using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Data;
using RecApp.Data.Migrations;
using RecApp.Data.Source;

namespace RecApp.Data.Models;

/// <summary>
/// <c>tuning</c>: what the build chose and measured (<see cref="ModelTuning"/>). No rows: the record is the version's
/// <c>model_versions.details</c>, published with the similarities job's parts, so <c>job_runs.model_version</c> (the
/// job's newest version) names it and <c>/stats</c> shows it.
/// </summary>
public sealed class TuningPart() : ModelPart<ModelTuning>("tuning")
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    protected override ModelTuning From(GlobalModel model) => model.Tuning;

    protected override ModelSnapshot With(ModelSnapshot snapshot, ModelTuning value) => snapshot with { Tuning = value };

    protected override string? DetailsOf(ModelTuning value) => JsonSerializer.Serialize(value, s_json);

    protected override Task<long> WriteRowsAsync(NpgsqlConnection connection, long version, ModelTuning value, CancellationToken ct) =>
        Task.FromResult(0L);

    protected override Task<ModelTuning> ReadRowsAsync(NpgsqlConnection connection, long version, string? details, CancellationToken ct) =>
        Task.FromResult(details is not null && JsonSerializer.Deserialize<ModelTuning>(details, s_json) is { } tuning ? tuning : ModelTuning.Default);
}
