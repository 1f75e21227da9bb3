using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Microsoft.AspNetCore.Http.Metadata;

namespace RecApp.Api.Recommendations;

/// <summary>
/// A <see cref="RecommendationResponse"/> written from its pre-rendered bytes (<see cref="PageBodies"/>) with this
/// request's elapsed time, plus the architecture's <c>X-Experiment: {experiment}_{variant}</c> header when the page
/// was served in an experiment. Documented in OpenAPI as the response type it writes.
/// </summary>
public sealed class PageResult : IResult, IStatusCodeHttpResult, IContentTypeHttpResult, IEndpointMetadataProvider
{
    /// <summary>The header naming the experiment arm an answer was served in.</summary>
    public const string ExperimentHeader = "X-Experiment";

    private const string JsonContentType = "application/json; charset=utf-8";

    /// <summary>Room for the elapsed milliseconds as JSON (a double rounded to 3 decimals).</summary>
    private const int MaxElapsedBytes = 32;

    private readonly PageBodies.PageBody _body;
    private readonly long _started;

    internal PageResult(PageBodies.PageBody body, long started)
    {
        _body = body;
        _started = started;
    }

    public int? StatusCode => StatusCodes.Status200OK;

    public string? ContentType => JsonContentType;

    /// <summary>The ids on this page (for tests and exposure records).</summary>
    public IReadOnlyList<long> Items => _body.Items;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = JsonContentType;
        if (_body.Experiment is { } experiment)
        {
            response.Headers[ExperimentHeader] = experiment;
        }
        var head = _body.Head;
        var tail = _body.Tail;
        var writer = response.BodyWriter;
        var span = writer.GetSpan(head.Length + MaxElapsedBytes + tail.Length);
        head.CopyTo(span);
        var elapsed = PageAnswer.ElapsedMs(_started);
        if (!elapsed.TryFormat(span[head.Length..(head.Length + MaxElapsedBytes)], out var written, default, CultureInfo.InvariantCulture))
        {
            throw new UnreachableException("A rounded elapsed time fits in 32 bytes.");
        }
        tail.CopyTo(span[(head.Length + written)..]);
        var length = head.Length + written + tail.Length;
        response.ContentLength = length;
        writer.Advance(length);
        var flushed = writer.FlushAsync();
        return flushed.IsCompletedSuccessfully ? Task.CompletedTask : flushed.AsTask();
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(RecommendationResponse), ["application/json"]));
    }
}
