using RecApp.Data;
using RecApp.Data.Source;
using StackExchange.Redis;

namespace RecApp.Refresher.Worker;

/// <summary>
/// Tells every API instance that a new model version is live: PUBLISH on
/// <see cref="RedisNames.ModelPublished"/> (under the key prefix the API instances use).
/// The API switches and warms its cache for its most active users when it hears this; if Redis is down the
/// announcement is only logged, and the API notices the new version by polling <c>model_current</c>.
/// </summary>
public sealed class ModelVersionAnnouncer(
    IConnectionMultiplexer redis, IConfiguration configuration, ILogger<ModelVersionAnnouncer> logger)
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(3);
    private readonly RedisChannel _channel = RedisChannel.Literal(RedisNames.From(configuration).ModelPublished);

    /// <summary>Returns how many subscribers received the announcement (0 when Redis is unavailable).</summary>
    public async Task<long> AnnounceAsync(long version)
    {
        try
        {
            var receivers = await redis.GetSubscriber().PublishAsync(_channel, version).WaitAsync(s_timeout);
            logger.LogInformation("Announced model version {Version} to {Receivers} subscribers.", version, receivers);
            return receivers;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            logger.LogWarning(ex, "Could not announce model version {Version} on Redis; API instances will find it by polling.", version);
            return 0;
        }
    }
}
