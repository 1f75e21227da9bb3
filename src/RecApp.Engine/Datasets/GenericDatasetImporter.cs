using System.Globalization;
using System.Text;
using System.Text.Json;
using RecApp.Engine.Domain;

namespace RecApp.Engine.Datasets;

/// <summary>
/// RecApp's own exchange format (docs/DATA-FORMATS.md): <c>items</c>, optional <c>users</c> and <c>interactions</c>,
/// each as <c>NAME.csv</c> (header row, comma-separated, RFC 4180 quotes, tags separated by <c>|</c>) or
/// <c>NAME.jsonl</c> (one JSON object per line, tags as an array).
/// </summary>
public static class GenericDatasetImporter
{
    public static ImportResult Import(string directory)
    {
        var builder = new ImportedDatasetBuilder();
        var items = FindFile(directory, "items") ?? throw new DatasetImportException($"Missing items.csv or items.jsonl in '{directory}'.");
        var interactions = FindFile(directory, "interactions")
            ?? throw new DatasetImportException($"Missing interactions.csv or interactions.jsonl in '{directory}'.");
        ReadRows(items, builder, ["id", "title", "category"], AddItem);
        if (FindFile(directory, "users") is { } users)
        {
            ReadRows(users, builder, ["id"], AddUser);
        }
        ReadRows(interactions, builder, ["user_id", "item_id", "type", "occurred_at"], AddInteraction);
        return builder.Build();
    }

    private static string? FindFile(string directory, string name)
    {
        var csv = Path.Combine(directory, name + ".csv");
        var jsonl = Path.Combine(directory, name + ".jsonl");
        return (File.Exists(csv), File.Exists(jsonl)) switch
        {
            (true, true) => throw new DatasetImportException($"Both {name}.csv and {name}.jsonl exist in '{directory}': keep one."),
            (true, false) => csv,
            (false, true) => jsonl,
            _ => null,
        };
    }

    /// <summary>One row's fields, whatever the file format.</summary>
    private interface IRow
    {
        string? Get(string name);
        string[]? GetList(string name);
    }

    private sealed class RowError(string message) : Exception(message);

    private delegate bool RowHandler(IRow row, string file, long line, ImportedDatasetBuilder builder);

    private static void ReadRows(string path, ImportedDatasetBuilder builder, string[] required, RowHandler handle)
    {
        var file = Path.GetFileName(path);
        long read = 0, accepted = 0;
        var csv = path.EndsWith(".csv", StringComparison.Ordinal);
        Dictionary<string, int>? header = null;
        var fields = new List<string>();
        foreach (var (line, text) in ImportedDatasetBuilder.ReadLines(path, Encoding.UTF8))
        {
            IRow row;
            if (csv)
            {
                if (header is null)
                {
                    header = ReadHeader(file, text, required);
                    continue;
                }
                read++;
                if (!CsvRecord.TrySplit(text, ',', fields, out var error) || fields.Count != header.Count)
                {
                    builder.Reject(file, line, error ?? $"expected {header.Count} fields, found {fields.Count}");
                    continue;
                }
                row = new CsvRow(header, [.. fields]);
            }
            else
            {
                read++;
                try
                {
                    using var document = JsonDocument.Parse(text);
                    if (document.RootElement.ValueKind != JsonValueKind.Object)
                    {
                        builder.Reject(file, line, "not a JSON object");
                        continue;
                    }
                    row = new JsonRow(document.RootElement.Clone());
                }
                catch (JsonException ex)
                {
                    builder.Reject(file, line, $"invalid JSON: {ex.Message}");
                    continue;
                }
            }
            try
            {
                if (handle(row, file, line, builder))
                {
                    accepted++;
                }
            }
            catch (RowError ex)
            {
                builder.Reject(file, line, ex.Message);
            }
        }
        if (csv && header is null)
        {
            throw new DatasetImportException($"{file} is empty: a header row is required.");
        }
        builder.Summarize(file, read, accepted);
    }

    private static Dictionary<string, int> ReadHeader(string file, string text, string[] required)
    {
        var names = new List<string>();
        if (!CsvRecord.TrySplit(text.TrimStart('\uFEFF'), ',', names, out var error))
        {
            throw new DatasetImportException($"{file}: the header row is malformed ({error}).");
        }
        var header = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++)
        {
            if (!header.TryAdd(names[i].Trim().ToLowerInvariant(), i))
            {
                throw new DatasetImportException($"{file}: column '{names[i]}' appears twice in the header.");
            }
        }
        var missing = required.Where(r => !header.ContainsKey(r)).ToArray();
        if (missing.Length > 0)
        {
            throw new DatasetImportException($"{file}: required column(s) {string.Join(", ", missing)} missing from the header.");
        }
        return header;
    }

    private sealed class CsvRow(Dictionary<string, int> header, string[] fields) : IRow
    {
        public string? Get(string name) =>
            header.TryGetValue(name, out var index) && fields[index].Trim() is { Length: > 0 } value ? value : null;

        public string[]? GetList(string name) =>
            Get(name)?.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    private sealed class JsonRow(JsonElement element) : IRow
    {
        public string? Get(string name)
        {
            if (!element.TryGetProperty(name, out var value))
            {
                return null;
            }
            return value.ValueKind switch
            {
                JsonValueKind.Null => null,
                JsonValueKind.String => value.GetString() is { Length: > 0 } text ? text.Trim() : null,
                JsonValueKind.Number => value.GetRawText(),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => throw new RowError($"'{name}' must be a string, number or boolean"),
            };
        }

        public string[]? GetList(string name)
        {
            if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }
            if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.String))
            {
                throw new RowError($"'{name}' must be an array of strings");
            }
            return value.EnumerateArray().Select(v => v.GetString()!.Trim()).Where(v => v.Length > 0).ToArray();
        }
    }

    private static bool AddItem(IRow row, string file, long line, ImportedDatasetBuilder builder)
    {
        var id = RequiredId(row, "id");
        var title = row.Get("title") ?? throw new RowError("'title' is required");
        var category = row.Get("category") ?? throw new RowError("'category' is required");
        var tags = row.GetList("tags")?.Distinct(StringComparer.Ordinal).ToArray() ?? [];
        var price = row.Get("price") is { } p
            ? decimal.TryParse(p, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var parsed) && parsed < 10_000_000_000m
                ? Math.Round(parsed, 2)
                : throw new RowError($"price '{p}' is not a non-negative number")
            : 0m;
        var active = row.Get("active") is { } a
            ? a.ToLowerInvariant() switch
            {
                "true" or "1" => true,
                "false" or "0" => false,
                _ => throw new RowError($"active '{a}' is not true or false"),
            }
            : true;
        var created = row.Get("created_at") is { } c ? ParseTime(c, "created_at") : DateTime.UnixEpoch;
        return builder.AddItem(file, line, new CatalogItem(id, title, category, tags, price, OptionalInt(row, "geo_id"), active, created));
    }

    private static bool AddUser(IRow row, string file, long line, ImportedDatasetBuilder builder)
    {
        var id = RequiredId(row, "id");
        var gender = row.Get("gender")?.ToLowerInvariant() switch
        {
            null => null,
            "f" or "female" => "f",
            "m" or "male" => "m",
            var other => throw new RowError($"gender '{other}' is not f or m"),
        };
        var ageGroup = row.Get("age_group");
        if (ageGroup is not null && !AgeGroups.All.Contains(ageGroup))
        {
            throw new RowError($"age_group '{ageGroup}' is not one of {string.Join(", ", AgeGroups.All)}");
        }
        if (ageGroup is null && row.Get("age") is { } age)
        {
            ageGroup = int.TryParse(age, NumberStyles.None, CultureInfo.InvariantCulture, out var years) && years <= 130
                ? AgeGroups.FromAge(years)
                : throw new RowError($"age '{age}' is not a plausible age");
        }
        return builder.AddUser(file, line, new UserDemographics(id, gender, ageGroup, OptionalInt(row, "geo_id")));
    }

    private static bool AddInteraction(IRow row, string file, long line, ImportedDatasetBuilder builder)
    {
        var user = RequiredId(row, "user_id");
        var item = RequiredId(row, "item_id");
        var typeName = row.Get("type") ?? throw new RowError("'type' is required");
        if (!InteractionTypeNames.TryParse(typeName, out var type))
        {
            throw new RowError($"type '{typeName}' is not one of {string.Join(", ", InteractionTypeNames.All)}");
        }
        float? value = row.Get("value") is { } v
            ? float.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) && float.IsFinite(parsed)
                ? parsed
                : throw new RowError($"value '{v}' is not a number")
            : null;
        if (type == InteractionType.Rating && value is null)
        {
            throw new RowError("a rating needs a value");
        }
        var at = ParseTime(row.Get("occurred_at") ?? throw new RowError("'occurred_at' is required"), "occurred_at");
        return builder.AddInteraction(file, line, new Interaction(user, item, type, value, at));
    }

    private static long RequiredId(IRow row, string name)
    {
        var text = row.Get(name) ?? throw new RowError($"'{name}' is required");
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0
            ? id
            : throw new RowError($"{name} '{text}' is not a positive integer");
    }

    private static int? OptionalInt(IRow row, string name) => row.Get(name) is { } text
        ? int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new RowError($"{name} '{text}' is not an integer")
        : null;

    /// <summary>ISO 8601 (no offset means UTC) or unix seconds; kept to PostgreSQL's microsecond precision.</summary>
    private static DateTime ParseTime(string text, string name)
    {
        DateTime utc;
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds <= 253402300799)
        {
            utc = ImportedDatasetBuilder.FromUnixSeconds(seconds);
        }
        else if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
                     DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            utc = parsed.UtcDateTime;
        }
        else
        {
            throw new RowError($"{name} '{text}' is not an ISO 8601 time or unix seconds");
        }
        return new DateTime(utc.Ticks - utc.Ticks % 10, DateTimeKind.Utc);
    }
}
