using Npgsql;
using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Data;
using RecApp.Data.Migrations;
using RecApp.Data.Source;

namespace RecApp.Data.Models;

/// <summary>
/// One independently versioned part of the global model: its name (<c>model_versions.part</c>), the tables its rows
/// live in (keyed by version), how it is written and read, and where it sits in a <see cref="GlobalModel"/> and a
/// <see cref="ModelSnapshot"/>. <see cref="ModelStore"/>, cleanup and the API's snapshot are driven by
/// <see cref="ModelParts.All"/>, so adding a part is one class here plus its property on the model and the snapshot.
/// </summary>
public abstract class ModelPart(string name, params string[] tables)
{
    public string Name { get; } = name;

    /// <summary>Tables holding this part's rows, each with a <c>version</c> column (cleanup deletes retired versions' rows).</summary>
    public IReadOnlyList<string> Tables { get; } = tables;

    /// <summary>This part of an in-memory build, ready to publish.</summary>
    internal abstract PartWrite WriteFrom(GlobalModel model);

    /// <summary>Reads one stored version; <paramref name="details"/> is its <c>model_versions.details</c> JSON.</summary>
    internal abstract Task<object> ReadAsync(NpgsqlConnection connection, long version, string? details, CancellationToken cancellationToken);

    /// <summary><paramref name="snapshot"/> with this part replaced by <paramref name="value"/> (what <see cref="ReadAsync"/> returned).</summary>
    internal abstract ModelSnapshot ApplyTo(ModelSnapshot snapshot, object value);

    /// <summary><paramref name="snapshot"/> with this part taken from an in-memory build.</summary>
    internal abstract ModelSnapshot ApplyTo(ModelSnapshot snapshot, GlobalModel model);

    public override string ToString() => Name;
}

/// <summary>A part whose value is a <typeparamref name="T"/>.</summary>
public abstract class ModelPart<T>(string name, params string[] tables) : ModelPart(name, tables)
    where T : class
{
    /// <summary>The rows of <paramref name="value"/> for a new version (binary COPY), and its details.</summary>
    public PartWrite Write(T value) => new(Name, (connection, version, ct) => WriteRowsAsync(connection, version, value, ct))
    {
        Details = DetailsOf(value),
    };

    protected abstract Task<long> WriteRowsAsync(NpgsqlConnection connection, long version, T value, CancellationToken cancellationToken);

    protected abstract Task<T> ReadRowsAsync(NpgsqlConnection connection, long version, string? details, CancellationToken cancellationToken);

    /// <summary>JSON for <c>model_versions.details</c> (null: none).</summary>
    protected virtual string? DetailsOf(T value) => null;

    /// <summary>The part's place in a build and in a snapshot.</summary>
    protected abstract T From(GlobalModel model);

    protected abstract ModelSnapshot With(ModelSnapshot snapshot, T value);

    internal sealed override PartWrite WriteFrom(GlobalModel model) => Write(From(model));

    internal sealed override async Task<object> ReadAsync(NpgsqlConnection connection, long version, string? details, CancellationToken cancellationToken) =>
        await ReadRowsAsync(connection, version, details, cancellationToken);

    internal sealed override ModelSnapshot ApplyTo(ModelSnapshot snapshot, object value) => With(snapshot, (T)value);

    internal sealed override ModelSnapshot ApplyTo(ModelSnapshot snapshot, GlobalModel model) => With(snapshot, From(model));
}
