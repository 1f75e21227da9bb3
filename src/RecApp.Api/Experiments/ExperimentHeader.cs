using Microsoft.AspNetCore.Http.HttpResults;
using RecApp.Api.Recommendations;

namespace RecApp.Api.Experiments;

/// <summary>Puts the architecture's <c>X-Experiment: {experiment}_{variant}</c> on answers served in an experiment.</summary>
internal sealed class ExperimentHeader : IEndpointFilter
{
    public const string Name = "X-Experiment";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var result = await next(context);
        var inner = result is INestedHttpResult nested ? nested.Result : result;
        if (inner is IValueHttpResult { Value: RecommendationResponse { Experiment: { } experiment } })
        {
            context.HttpContext.Response.Headers[Name] = experiment;
        }
        return result;
    }
}
