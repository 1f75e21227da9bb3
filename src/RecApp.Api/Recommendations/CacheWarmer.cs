using Microsoft.Extensions.Options;
using RecApp.Data.Interactions;
using RecApp.Engine.Domain;

namespace RecApp.Api.Recommendations;

/// <summary>
/// Computes the lists the next requests are most likely to ask for, right after a model version changes: the
/// global popular list and the lists of the most active users of the last 30 days. Every instance warms its own
/// L1; the first one also fills L2 for the others.
/// </summary>
public sealed class CacheWarmer(
    InteractionStore interactions, RankedListCache lists, RecApp.Api.Model.IGlobalModel model, IOptionsMonitor<ApiOptions> options)
{
    private const int BatchSize = 20;

    /// <summary>Returns how many users' lists were warmed.</summary>
    public async Task<int> WarmAsync(CancellationToken cancellationToken)
    {
        var snapshot = model.Current;
        await lists.PopularAsync(snapshot, new Demographics(), RecommendationFilters.None, cancellationToken);
        var count = options.CurrentValue.WarmUsers;
        // Users' lists are served only once the model can personalize (ModelReadiness): nothing to warm before.
        if (count == 0 || !ModelReadiness.CanPersonalize(snapshot))
        {
            return 0;
        }

        // "Recent" on the data's own clock (the newest interaction the model saw): imported history warms too.
        var users = await interactions.MostActiveUsersAsync(count, snapshot.Tuning.DataClock ?? DateTime.UtcNow, cancellationToken);
        // Small batches: warm-up must not crowd out live requests on a 2-core machine.
        for (var i = 0; i < users.Count; i += BatchSize)
        {
            await lists.ForUsersAsync(snapshot, users.GetRange(i, Math.Min(BatchSize, users.Count - i)), cancellationToken);
        }
        return users.Count;
    }
}
