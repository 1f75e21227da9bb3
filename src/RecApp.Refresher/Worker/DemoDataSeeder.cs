using Microsoft.Extensions.Options;
using RecApp.Recommendations.Ingest;

namespace RecApp.Refresher.Worker;

/// <summary>
/// Development convenience: when <see cref="RefresherOptions.SeedDemoDataWhenEmpty"/> is on and the catalog is
/// empty, generates synthetic data and loads it, so a fresh <c>./dev.sh run</c> shows real recommendations.
/// The history ends at today's midnight (UTC) so trending has recent data; the seed keeps it reproducible per day.
/// </summary>
public sealed class DemoDataSeeder(DatasetBulkLoader loader, IOptions<RefresherOptions> options, TimeProvider time, ILogger<DemoDataSeeder> logger)
{
    /// <summary>True when it loaded data.</summary>
    public async Task<bool> SeedIfEmptyAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!settings.SeedDemoDataWhenEmpty || !await loader.IsEmptyAsync(cancellationToken))
        {
            return false;
        }
        var size = SyntheticDatasetSize.Parse(settings.DemoDataSize);
        logger.LogInformation("The catalog is empty: generating demo data of size {Size} (seed {Seed}).", size.Name, settings.DemoDataSeed);
        var dataset = SyntheticDatasetGenerator.Generate(new SyntheticDatasetOptions(size, settings.DemoDataSeed)
        {
            ReferenceEnd = time.GetUtcNow().UtcDateTime.Date,
        });
        var lastReported = -1;
        var progress = new Progress<BulkLoadProgress>(p =>
        {
            var percent = p.Total == 0 ? 100 : (int)(100 * p.Written / p.Total);
            if (p.Table == "interactions" && percent / 25 != lastReported)
            {
                lastReported = percent / 25;
                logger.LogInformation("Loading demo interactions: {Percent}%.", percent);
            }
        });
        await loader.LoadAsync(dataset, progress, cancellationToken);
        return true;
    }
}
