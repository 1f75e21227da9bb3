using Microsoft.Extensions.Options;
using RecApp.Engine.Datasets;
using RecApp.Data;

namespace RecApp.Refresher.Worker;

/// <summary>
/// Development convenience: when <see cref="RefresherOptions.LoadDemoDataWhenEmpty"/> is on and the catalog is
/// empty, generates synthetic data and loads it, so a fresh <c>./dev.sh run</c> shows real recommendations.
/// The history ends at today's midnight (UTC) so trending has recent data; the seed keeps it reproducible per day.
/// </summary>
public sealed class DemoDataLoader(DatasetBulkLoader loader, IOptions<RefresherOptions> options, TimeProvider time, ILogger<DemoDataLoader> logger)
{
    /// <summary>True when it loaded data.</summary>
    public async Task<bool> LoadIfEmptyAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!settings.LoadDemoDataWhenEmpty || !await loader.IsEmptyAsync(cancellationToken))
        {
            return false;
        }
        var size = SyntheticDatasetSize.Parse(settings.DemoDataSize);
        logger.LogInformation("The catalog is empty: generating demo data of size {Size} (seed {Seed}).", size.Name, settings.DemoDataSeed);
        var dataset = SyntheticDatasetGenerator.Generate(new SyntheticDatasetOptions(size, settings.DemoDataSeed)
        {
            ReferenceEnd = time.GetUtcNow().UtcDateTime.Date,
        });
        var progress = new QuarterLogger(logger);
        await loader.LoadAsync(dataset, progress, cancellationToken);
        return true;
    }

    /// <summary>Logs the interaction load at 25% steps; reported synchronously by the loader, so no locking.</summary>
    private sealed class QuarterLogger(ILogger logger) : IProgress<BulkLoadProgress>
    {
        private long _lastQuarter = -1;

        public void Report(BulkLoadProgress value)
        {
            var quarter = value.Total == 0 ? 4 : 4 * value.Written / value.Total;
            if (value.Table == "interactions" && quarter != _lastQuarter)
            {
                _lastQuarter = quarter;
                logger.LogInformation("Loading demo interactions: {Percent}%.", quarter * 25);
            }
        }
    }
}
