using Npgsql;
using NpgsqlTypes;
using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Engine.Embeddings;
using RecApp.Data.Models;
using RecApp.Data.Migrations;
using RecApp.Data.Source;

namespace RecApp.Data;

/// <summary>Nullable columns in binary <c>COPY</c>: one place for the null checks of every importer and exporter.</summary>
internal static class BinaryCopyExtensions
{
    /// <summary>Writes <paramref name="value"/>, or NULL when it has none.</summary>
    public static Task WriteNullableAsync<T>(this NpgsqlBinaryImporter writer, T? value, NpgsqlDbType type, CancellationToken cancellationToken)
        where T : struct =>
        value is { } v ? writer.WriteAsync(v, type, cancellationToken) : writer.WriteNullAsync(cancellationToken);

    /// <summary>Writes <paramref name="value"/>, or NULL when it is null.</summary>
    public static Task WriteNullableAsync(this NpgsqlBinaryImporter writer, string? value, NpgsqlDbType type, CancellationToken cancellationToken) =>
        value is null ? writer.WriteNullAsync(cancellationToken) : writer.WriteAsync(value, type, cancellationToken);

    /// <summary>Reads the current column as <typeparamref name="T"/>, or skips it and returns null when it is NULL.</summary>
    public static T? ReadNullable<T>(this NpgsqlBinaryExporter reader, NpgsqlDbType type)
        where T : struct
    {
        if (reader.IsNull)
        {
            reader.Skip();
            return null;
        }
        return reader.Read<T>(type);
    }

    /// <summary>Reads the current text column, or skips it and returns null when it is NULL.</summary>
    public static string? ReadNullableText(this NpgsqlBinaryExporter reader)
    {
        if (reader.IsNull)
        {
            reader.Skip();
            return null;
        }
        return reader.Read<string>(NpgsqlDbType.Text);
    }
}
