using System.Text.Json;

namespace RecApp.Tests.Foundation;

/// <summary>
/// The runtime settings the API ships with (its runtimeconfig.json, built from RecApp.Api.csproj), each chosen by a
/// measurement in docs/PERFORMANCE.md: a change to the project file that drops one fails here, not in a load run.
/// </summary>
public sealed class ApiRuntimeSettingsTests
{
    [Theory]
    [InlineData("System.GC.Server", "true")]                                  // server GC ...
    [InlineData("System.GC.DynamicAdaptationMode", "1")]                      // ... with DATAS: the RSS budget
    [InlineData("System.Runtime.TieredCompilation.QuickJitForLoops", "false")] // scoring loops optimized at once: warm-up
    public void The_api_runs_with_the_measured_runtime_setting(string name, string expected)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "RecApp.Api.runtimeconfig.json");
        using var config = JsonDocument.Parse(File.ReadAllText(path));
        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.True(properties.TryGetProperty(name, out var value), $"{name} is not set in {path}");
        Assert.Equal(expected, value.ToString().ToLowerInvariant());
    }
}
