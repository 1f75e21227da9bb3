using System.Globalization;
using System.Text.Json;
using RecApp.Engine.Domain;

namespace RecApp.Engine.Datasets;

/// <summary>
/// Writes a <see cref="Dataset"/> in the generic exchange format as JSON lines (<c>items.jsonl</c>, <c>users.jsonl</c>,
/// <c>interactions.jsonl</c>; docs/DATA-FORMATS.md), so that <see cref="GenericDatasetImporter"/> reads back the same
/// dataset: inactive items stay inactive, times keep their microseconds, rating values their exact float.
/// </summary>
public static class GenericDatasetWriter
{
    private static readonly JsonWriterOptions s_options = new() { Indented = false, SkipValidation = false };

    public static void Write(Dataset dataset, string directory)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        Directory.CreateDirectory(directory);
        WriteLines(Path.Combine(directory, "items.jsonl"), dataset.Items, (json, item) =>
        {
            json.WriteNumber("id", item.Id);
            json.WriteString("title", item.Title);
            json.WriteString("category", item.Category);
            json.WriteStartArray("tags");
            foreach (var tag in item.Tags)
            {
                json.WriteStringValue(tag);
            }
            json.WriteEndArray();
            json.WriteNumber("price", item.Price);
            if (item.GeoId is { } geo)
            {
                json.WriteNumber("geo_id", geo);
            }
            json.WriteBoolean("active", item.Active);
            json.WriteString("created_at", Time(item.CreatedAt));
        });
        WriteLines(Path.Combine(directory, "users.jsonl"), dataset.Users, (json, user) =>
        {
            json.WriteNumber("id", user.Id);
            WriteOptional(json, "gender", user.Gender);
            WriteOptional(json, "age_group", user.AgeGroup);
            if (user.GeoId is { } geo)
            {
                json.WriteNumber("geo_id", geo);
            }
        });
        WriteLines(Path.Combine(directory, "interactions.jsonl"), dataset.Interactions, (json, e) =>
        {
            json.WriteNumber("user_id", e.UserId);
            json.WriteNumber("item_id", e.ItemId);
            json.WriteString("type", e.Type.ToWireName());
            if (e.Value is { } value)
            {
                json.WriteNumber("value", value); // shortest text that parses back to the same float
            }
            json.WriteString("occurred_at", Time(e.OccurredAt));
        });
    }

    private static void WriteLines<T>(string path, IEnumerable<T> rows, Action<Utf8JsonWriter, T> write)
    {
        using var stream = new BufferedStream(File.Create(path), 1 << 16);
        var newLine = "\n"u8.ToArray();
        using var json = new Utf8JsonWriter(stream, s_options);
        foreach (var row in rows)
        {
            json.WriteStartObject();
            write(json, row);
            json.WriteEndObject();
            json.Flush();
            json.Reset();
            stream.Write(newLine);
        }
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    /// <summary>ISO 8601 in UTC with every digit of the tick (the importer keeps microseconds, PostgreSQL's precision).</summary>
    private static string Time(DateTime value)
    {
        var utc = value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : DateTime.SpecifyKind(value, DateTimeKind.Utc);
        return utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
    }
}
