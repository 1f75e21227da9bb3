using System.Globalization;

namespace RecApp.Api.Validation;

/// <summary>
/// Parses query-string and route values by hand so that a wrong value is a 400 naming the parameter
/// (the framework's own binding answers an empty 400 or, for route constraints, a 404).
/// </summary>
public static class QueryValues
{
    public static int? Int(HttpContext context, string name, FieldErrors errors)
    {
        var raw = Raw(context, name);
        if (raw is null)
        {
            return null;
        }
        if (int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }
        errors.Add(name, "Must be an integer.");
        return null;
    }

    public static decimal? Decimal(HttpContext context, string name, FieldErrors errors)
    {
        var raw = Raw(context, name);
        if (raw is null)
        {
            return null;
        }
        if (decimal.TryParse(raw, NumberStyles.Number, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }
        errors.Add(name, "Must be a number.");
        return null;
    }

    public static string? String(HttpContext context, string name) => Raw(context, name);

    /// <summary>A positive 64-bit id from a route value.</summary>
    public static long Id(string raw, string name, FieldErrors errors)
    {
        if (long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0)
        {
            return id;
        }
        errors.Add(name, "Must be a positive integer id.");
        return 0;
    }

    private static string? Raw(HttpContext context, string name)
    {
        var values = context.Request.Query[name];
        return values.Count == 0 || string.IsNullOrWhiteSpace(values[0]) ? null : values[0];
    }
}
