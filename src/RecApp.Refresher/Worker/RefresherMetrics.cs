using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace RecApp.Refresher.Worker;

/// <summary>
/// The Refresher's telemetry (meter and activity source <c>RecApp.Refresher</c>): one span per job run, job
/// durations and rows by job and outcome, and the newest model version this leader published.
/// </summary>
public sealed class RefresherMetrics
{
    public const string Name = "RecApp.Refresher";

    public static readonly ActivitySource Source = new(Name);

    private readonly Histogram<double> _duration;
    private readonly Counter<long> _rows;
    private long _publishedVersion;

    public RefresherMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(Name);
        _duration = meter.CreateHistogram<double>("recapp.refresher.job.duration", "s", "How long a model job ran.");
        _rows = meter.CreateCounter<long>("recapp.refresher.job.rows", "{row}", "Rows a model job wrote.");
        meter.CreateObservableGauge("recapp.model.version", () => Interlocked.Read(ref _publishedVersion), "{version}",
            "The newest model version this Refresher published.");
    }

    public void JobFinished(string job, string outcome, TimeSpan duration, long? rows, long? modelVersion)
    {
        var tags = new TagList { { "job", job }, { "outcome", outcome } };
        _duration.Record(duration.TotalSeconds, tags);
        if (rows is { } count)
        {
            _rows.Add(count, tags);
        }
        if (modelVersion is { } version && version > Interlocked.Read(ref _publishedVersion))
        {
            Interlocked.Exchange(ref _publishedVersion, version);
        }
    }
}
