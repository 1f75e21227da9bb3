using System.Net.Http.Json;
using System.Text.Json;

namespace RecApp.AppHost.Tests;

/// <summary>The few parts of the API's answers these tests read.</summary>
public static class ApiJson
{
    public sealed record Answer(long[] Items, string Algorithm, bool CacheHit, long ModelVersion);

    public sealed record Stats(long ServingVersion, IReadOnlyDictionary<string, long> PartVersions);

    public static async Task<Answer> RecommendationsAsync(HttpClient client, long userId, int limit = 10)
    {
        using var response = await client.GetAsync($"/users/{userId}/recommendations?limit={limit}");
        response.EnsureSuccessStatusCode();
        return ToAnswer(await ReadAsync(response));
    }

    public static async Task<Answer> PostAsync(HttpClient client, string path, string json)
    {
        using var response = await client.PostAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
        return ToAnswer(await ReadAsync(response));
    }

    public static async Task<Stats> StatsAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/stats");
        response.EnsureSuccessStatusCode();
        using var body = await ReadAsync(response);
        var model = body.RootElement.GetProperty("model");
        return new Stats(
            model.GetProperty("serving_version").GetInt64(),
            model.GetProperty("parts").EnumerateArray().ToDictionary(p => p.GetProperty("part").GetString()!, p => p.GetProperty("version").GetInt64()));
    }

    public static async Task<JsonDocument> ReadAsync(HttpResponseMessage response) =>
        await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync());

    private static Answer ToAnswer(JsonDocument body)
    {
        using (body)
        {
            var root = body.RootElement;
            return new Answer(
                root.GetProperty("items").Deserialize<long[]>()!,
                root.GetProperty("algorithm_used").GetString()!,
                root.GetProperty("cache_hit").GetBoolean(),
                root.GetProperty("model_version").GetInt64());
        }
    }

    public static JsonContent Json(object value) => JsonContent.Create(value);
}

/// <summary>Polling with a deadline: the tests wait for an outcome, never for a fixed time.</summary>
public static class Poll
{
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        while (!await condition())
        {
            if (cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"Timed out waiting for {what}.");
            }
            try
            {
                await Task.Delay(delay, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // One more look at the condition, then the timeout above.
            }
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 500));
        }
    }

    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        await UntilAsync(condition, what, timeout.Token);
    }
}
