using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace RecApp.Recommendations;

/// <summary>
/// Reads one of seed 002's environment names (<c>CACHE_TTL_POPULAR</c>, <c>MAX_SIMILAR_USERS</c>, ...) accepted beside a
/// .NET configuration key. One rule for every service: the .NET key wins when both are set; the seed's
/// <c>"900 # 15 minutes"</c> style is tolerated; a value that is not positive fails start-up, naming the setting.
/// </summary>
public static class SeedEnvironmentSetting
{
    public static bool TryReadPositiveInteger(
        IConfiguration configuration, string name, string dotnetKey, Type optionsType, out int value)
    {
        value = 0;
        if (Text(configuration, name, dotnetKey) is not { } text)
        {
            return false;
        }
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value) || value <= 0)
        {
            throw Invalid(configuration, name, optionsType, "a positive integer");
        }
        return true;
    }

    public static bool TryReadPositiveNumber(
        IConfiguration configuration, string name, string dotnetKey, Type optionsType, out double value)
    {
        value = 0;
        if (Text(configuration, name, dotnetKey) is not { } text)
        {
            return false;
        }
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) || !(value > 0))
        {
            throw Invalid(configuration, name, optionsType, "a positive number");
        }
        return true;
    }

    /// <summary>The value without its trailing comment; null when unset or when the .NET key is set.</summary>
    private static string? Text(IConfiguration configuration, string name, string dotnetKey) =>
        configuration[name] is { } raw && configuration[dotnetKey] is null ? raw.Split('#', 2)[0].Trim() : null;

    private static OptionsValidationException Invalid(IConfiguration configuration, string name, Type optionsType, string expected) =>
        new(name, optionsType, [$"{name} must be {expected}, got '{configuration[name]}'."]);
}
